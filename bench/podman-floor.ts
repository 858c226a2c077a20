/**
 * The physical floor: podman itself. `bareRun` is the sandbox container the node would start (same image, same
 * hardening and limits, the node's spec as `podman run` argv, `containerArgs`) with nothing of ours around it. `timingWrapper` puts a
 * `podman` first on PATH that records when each podman call of the worker-node starts and ends.
 */
import { DEFAULT_INFERENCE_LIMITS } from "../src/lib/inference-request";
import { chmod } from "node:fs/promises";
import { join } from "node:path";
import type { SidecarSpec } from "../src/worker-node/inference/pod";
import { USERNS_FLAGS, type ContainerLimits } from "../src/worker-node/sandbox/container-spec";
import { containerArgs, labelFlags } from "../src/worker-node/sandbox/podman";
import { CONTAINERS_CONF, SANDBOX_IMAGE } from "./services";

export const PROXY_IMAGE = "localhost/cynode-inference-proxy:latest";

/** The node's defaults (src/worker-node/config.ts), which the benchmark node also uses. */
export const NODE_LIMITS: ContainerLimits = { pids: 512, memoryMb: 2048, cpus: 2 };

/** The naive pod on podman's command line (the node makes its pods through the libpod API). */
const podCreateArgs = (name: string, labels: Record<string, string>) => [
  "pod",
  "create",
  `--name=${name}`,
  "--network=none",
  ...USERNS_FLAGS,
  "--hostname=sandbox",
  ...labelFlags(labels),
];
const removePodsArgs = (names: string[]) => ["pod", "rm", "--force", "--ignore", "--time=0", ...names];

/** The naive sidecar on podman's command line: the node's sidecar hardening, limits, mounts and env. */
function sidecarArgs(s: SidecarSpec): string[] {
  return [
    "run",
    "--detach",
    `--name=${s.name}`,
    `--pod=${s.pod}`,
    "--pull=never",
    "--cap-drop=ALL",
    "--security-opt=no-new-privileges",
    "--read-only",
    "--pids-limit=128",
    "--memory=256m",
    "--memory-swap=256m",
    "--cpus=1",
    ...labelFlags(s.labels),
    `--mount=type=bind,source=${s.runDir},target=/run/cynode,U=true`,
    `--mount=type=bind,source=${s.relayDir},target=/run/upstream,ro`,
    "--env=INFERENCE_PROXY_LISTEN=127.0.0.1:11434",
    "--env=INFERENCE_PROXY_SOCKET=/run/cynode/inference-proxy.sock",
    "--env=OLLAMA_UPSTREAM_URL=unix:/run/upstream/ollama.sock",
    `--env=INFERENCE_PROXY_TIMEOUT=${s.timeoutSeconds}s`,
    `--env=INFERENCE_ALLOWED_MODELS=${s.allowedModels.join(",")}`,
    `--env=INFERENCE_MAX_TOKENS=${s.limits.maxTokens}`,
    `--env=INFERENCE_MAX_CONTEXT=${s.limits.maxContext}`,
    `--env=INFERENCE_MAX_KEEP_ALIVE=${s.limits.keepAlive}`,
    `--env=INFERENCE_PROXY_MAX_CONNECTIONS=${s.maxConnections}`,
    s.image,
  ];
}

async function podman(args: string[]): Promise<void> {
  const p = Bun.spawn(["podman", ...args], {
    env: { ...process.env, CONTAINERS_CONF },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  if (code !== 0) throw new Error(`podman ${args[0]} exited ${code}: ${err.trim()}`);
}

/** The node's sandbox isolation (run-job.ts), its /workspace tmpfs at the node's default size included. */
const spec = (command: string[]) => ({
  name: `cynode-bench-bare-${crypto.randomUUID().slice(0, 8)}`,
  image: SANDBOX_IMAGE,
  command,
  env: {},
  labels: { "cynode-bench": "1" },
  limits: NODE_LIMITS,
  workdir: "/workspace",
  workspace: { target: "/workspace", sizeMb: 1024 },
});

export async function bareRun(command = ["true"]): Promise<void> {
  await podman(containerArgs(spec(command)));
}

/**
 * The naive inference pod, cold, on podman's command line (the sandbox's spec as argv, the pod and sidecar argv
 * above): `pod create --network none`, the sidecar, the sandbox running `command` in the pod, then `pod rm -f -t 0`. `runDir` and `relayDir` are the sidecar's mounts.
 */
export async function bareInferencePod(dirs: { runDir: string; relayDir: string }, command = ["true"]): Promise<void> {
  const pod = `cynode-bench-pod-${crypto.randomUUID().slice(0, 8)}`;
  const labels = { "cynode-bench": "1" };
  await podman(podCreateArgs(pod, labels));
  try {
    await podman(
      sidecarArgs({
        name: `${pod}-proxy`,
        pod,
        image: PROXY_IMAGE,
        ...dirs,
        timeoutSeconds: 120,
        labels,
        allowedModels: ["qwen3.5:0.8b"],
        limits: DEFAULT_INFERENCE_LIMITS,
        maxConnections: 16,
      }),
    );
    await podman(containerArgs({ ...spec(command), pod }));
  } finally {
    await removePod(pod);
  }
}

/**
 * podman 4.3 may still hold the `--rm` sandbox's shm mount while its pod goes ("device or resource busy"): removal
 * is retried, as an operator would, so a flake of podman's does not end the measurement.
 */
async function removePod(pod: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await podman(removePodsArgs([pod]));
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}

export async function removeBareContainers(): Promise<void> {
  const env = { ...process.env, CONTAINERS_CONF };
  const pods = Bun.spawn(["podman", "pod", "ps", "-q", "--filter=label=cynode-bench=1"], { env, stdout: "pipe" });
  const podIds = (await new Response(pods.stdout).text()).split("\n").filter(Boolean);
  if (podIds.length)
    await Bun.spawn(["podman", ...removePodsArgs(podIds)], { env, stdout: "ignore", stderr: "ignore" }).exited;
  const ps = Bun.spawn(["podman", "ps", "-aq", "--filter=label=cynode-bench=1"], { env, stdout: "pipe" });
  const ids = (await new Response(ps.stdout).text()).split("\n").filter(Boolean);
  if (ids.length)
    await Bun.spawn(["podman", "rm", "-f", "-t", "0", ...ids], { env, stdout: "ignore", stderr: "ignore" }).exited;
}

export type PodmanCall = { verb: string; start: number; end: number };

/** Writes `<dir>/podman` (bash: `$EPOCHREALTIME` costs no fork) and returns a PATH with it first, and a reader. */
export async function timingWrapper(dir: string): Promise<{ path: string; calls(): Promise<PodmanCall[]> }> {
  const real = Bun.which("podman");
  if (!real) throw new Error("podman not found on PATH");
  const log = join(dir, "podman-calls.log");
  const script = join(dir, "podman");
  await Bun.write(
    script,
    // The node's long-lived `podman system service` is exec'd: it must stay the process the node's death kills.
    `#!/bin/bash\n[ "$1" = system ] && exec ${real} "$@"\nstart=$EPOCHREALTIME\n${real} "$@"\nrc=$?\necho "$start $EPOCHREALTIME $1" >> ${log}\nexit $rc\n`,
  );
  await chmod(script, 0o755);
  return {
    path: `${dir}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    async calls() {
      const file = Bun.file(log);
      if (!(await file.exists())) return [];
      return (await file.text())
        .split("\n")
        .filter(Boolean)
        .map((l) => {
          const [s, e, verb] = l.split(" ");
          return { verb: verb ?? "", start: Number(s) * 1000, end: Number(e) * 1000 };
        });
    },
  };
}

/** A running sandbox-like container (the node's isolation, same image) to `podman exec` into; returns its name. */
export async function bareRunning(): Promise<string> {
  const s = spec(["sleep", "3600"]);
  const [run, ...rest] = containerArgs(s);
  await podman([run!, "--detach", ...rest]);
  return s.name;
}

/** One bare `podman exec <container> …`, as an operator would type it. */
export async function bareExec(container: string, command = ["true"]): Promise<void> {
  await podman(["exec", container, ...command]);
}

export async function bareRemove(container: string): Promise<void> {
  await podman(["rm", "--force", "--time=0", container]);
}
