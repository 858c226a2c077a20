/** TEST SUPPORT: real podman with the project's containers.conf, small and fast sandbox settings, and sandbox probes. */
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildImage } from "../../containers/build-image";
import { createPodman, type Podman } from "../worker-node/sandbox/podman";
import type { SandboxSettings } from "../worker-node/sandbox/run-job";
import { until } from "./until";

export const SANDBOX_IMAGE = "localhost/cynode-sandbox:latest";

/**
 * A fork bomb, then proof the sandbox still serves its job: the script forks nothing after the bomb (a fork there
 * could fail while the bomb holds every pid), so it waits on a FIFO opened beforehand and prints with builtins.
 */
export const FORK_BOMB_SCRIPT =
  'mkfifo /tmp/wait; exec 3<>/tmp/wait; read -r max </sys/fs/cgroup/pids/pids.max; bomb() { bomb | bomb & }; bomb; read -t 2 <&3; echo "held at $max"';

/** Full ids (or another `podman ps` field) of a node's warm containers that exist now, sorted. */
export async function warmContainers(podman: Podman, nodeSlug: string, field = "ID"): Promise<string[]> {
  const r = await podman.exec([
    "ps",
    "--all",
    "--no-trunc",
    `--format={{.${field}}}`,
    `--filter=label=cynodeai.node=${nodeSlug}`,
    "--filter=label=cynodeai.warm=1",
  ]);
  return r.stdout.split("\n").filter(Boolean).sort();
}

export function testPodman(): Podman {
  return createPodman({ containersConf: join(import.meta.dir, "../../containers/containers.conf") });
}

/** Builds the sandbox image if it is missing or stale (a no-op when up to date). */
export async function ensureSandboxImage(podman: Podman): Promise<void> {
  await buildImage({ name: "sandbox", podman, log: () => {} });
}

export async function testSettings(overrides: Partial<SandboxSettings> = {}): Promise<SandboxSettings> {
  return {
    nodeSlug: `test-node-${process.pid}-${crypto.randomUUID().slice(0, 8)}`,
    mountRoot: join(await mkdtemp(join(tmpdir(), "cynode-mounts-")), "sandbox_mounts"),
    defaultImage: SANDBOX_IMAGE,
    allowedImages: [],
    limits: { pids: 64, memoryMb: 256, cpus: 1 },
    timeouts: { defaultSeconds: 60, maxSeconds: 120 },
    maxOutputBytes: 262144,
    maxConcurrency: 8,
    ...overrides,
  };
}

/**
 * A job that shows it has started without writing anything the host reads (its io directory is read-only to it):
 * its `command` runs a `sleep` of a unique length, and `seen()` waits until the host sees that process in /proc.
 */
/** The node's own secrets (its PSK, its Worker API bearer) set to one fresh value in this process's env while `body` runs. */
export async function withNodeSecrets(body: (secret: string) => Promise<void>): Promise<void> {
  const secret = `psk-${crypto.randomUUID()}`;
  process.env.NODE_REGISTRATION_PSK = secret;
  process.env.WORKER_API_BEARER_TOKEN = secret;
  try {
    await body(secret);
  } finally {
    delete process.env.NODE_REGISTRATION_PSK;
    delete process.env.WORKER_API_BEARER_TOKEN;
  }
}

/** A listener on every host address that only counts who connects, while `body` shows a sandbox cannot reach it. */
export async function withCountingListener(
  body: (port: number, accepted: () => number) => Promise<void>,
): Promise<void> {
  let accepted = 0;
  const listener = Bun.listen({
    hostname: "0.0.0.0",
    port: 0,
    socket: { open: () => void accepted++, data: () => {} },
  });
  try {
    await body(listener.port, () => accepted);
  } finally {
    listener.stop(true);
  }
}

export function startedSignal(seconds = 60) {
  const argv = ["sleep", `${seconds}.${crypto.getRandomValues(new Uint32Array(1))[0]}`];
  return { command: argv.join(" "), seen: (timeoutMs = 30_000) => waitForHostProcess(argv, timeoutMs) };
}

/** Resolves once a host process runs exactly `argv`; fails with a message past the deadline. */
export async function waitForHostProcess(argv: string[], timeoutMs = 30_000): Promise<void> {
  const want = `${argv.join("\0")}\0`;
  await until(() => hostProcessRuns(want), `a host process running \`${argv.join(" ")}\``, { timeoutMs });
}

async function hostProcessRuns(cmdline: string): Promise<boolean> {
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const text = await Bun.file(`/proc/${pid}/cmdline`)
      .text()
      .catch(() => "");
    if (text === cmdline) return true;
  }
  return false;
}
