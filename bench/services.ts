/**
 * The real executables (dist/bin) as benchmark subjects: temp state dirs, port 0, URLs read from their JSON log
 * lines, every log line kept (the dispatch split is computed from them), and everything undone by one cleanup.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, startProcess, type ManagedProcess } from "../bdd/support/managed-process";

export const ROOT = resolve(import.meta.dir, "..");
/** dist/bin, or CYNODE_BENCH_BIN_DIR (e.g. another build's binaries, for a before/after comparison). */
export const bin = (name: string) => join(process.env.CYNODE_BENCH_BIN_DIR || join(ROOT, "dist", "bin"), name);
export const CONTAINERS_CONF = join(ROOT, "containers", "containers.conf");
export const SANDBOX_IMAGE = "localhost/cynode-sandbox:latest";
export const ADMIN_PASSWORD = "bench-admin-password";

export type LogLine = Record<string, unknown>;

/** Undo steps, run last-in first-out, once, whatever failed. */
export type Cleanup = { add(step: () => unknown): void; run(): Promise<void> };

export function createCleanup(): Cleanup {
  const steps: (() => unknown)[] = [];
  return {
    add: (step) => void steps.push(step),
    async run() {
      for (const step of steps.splice(0).reverse()) {
        try {
          await step();
        } catch (err) {
          console.error(`cleanup step failed: ${(err as Error).message}`);
        }
      }
    },
  };
}

export async function tempDir(cleanup: Cleanup, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `cynode-bench-${prefix}-`));
  cleanup.add(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts `argv` as a managed process whose stop is registered with `cleanup`. */
export function startService(
  cleanup: Cleanup,
  argv: string[],
  env: Record<string, string | undefined>,
): ManagedProcess {
  const p = startProcess(argv[0]!, argv, { env });
  cleanup.add(() => p.stop());
  return p;
}

/** The first JSON log line (already written or still to come) whose `msg` is `msg`, parsed. */
export async function logLine(p: ManagedProcess, msg: string, timeoutMs = 60_000): Promise<LogLine> {
  const pattern = new RegExp(`"msg":${JSON.stringify(msg).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`);
  return JSON.parse(await p.waitForLine(pattern, timeoutMs));
}

export type Orchestrator = {
  service: ManagedProcess;
  gatewayUrl: string;
  controlPlaneUrl: string;
  stateDir: string;
  psk: string;
};

export async function startOrchestrator(
  cleanup: Cleanup,
  env: Record<string, string> = {},
  stateDir?: string,
): Promise<Orchestrator> {
  const dir = stateDir ?? (await tempDir(cleanup, "orch"));
  const psk = "bench-node-psk";
  // The node config sent to nodes names the control-plane's public URL, so its port is chosen up front.
  const cpPort = await freePort();
  const service = startService(cleanup, [bin("orchestrator"), "--state-dir", dir], {
    USER_GATEWAY_LISTEN_ADDR: "127.0.0.1:0",
    CONTROL_PLANE_LISTEN_ADDR: `127.0.0.1:${cpPort}`,
    ORCHESTRATOR_PUBLIC_URL: `http://127.0.0.1:${cpPort}`,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
    NODE_REGISTRATION_PSK: psk,
    LOG_LEVEL: "info",
    ...env,
  });
  const url = async (msg: string) => String((await logLine(service, msg, 120_000)).url).replace(/\/$/, "");
  const controlPlaneUrl = await url("control-plane listening");
  const gatewayUrl = await url("user gateway listening");
  return { service, gatewayUrl, controlPlaneUrl, stateDir: dir, psk };
}

export type WorkerNode = { service: ManagedProcess; url: string; slug: string; stateDir: string };

/** The Ollama-API-compatible test double (never inference) in its own process; resolves to its URL. */
export async function startOllamaDouble(cleanup: Cleanup, socket?: string): Promise<string> {
  const double = startService(
    cleanup,
    ["bun", join(import.meta.dir, "ollama-double.ts"), ...(socket ? [socket] : [])],
    {},
  );
  return String((await logLine(double, "ollama test double listening")).url);
}

/**
 * Node YAML (src/worker-node/config.ts) on a temp state dir, reusing `ollamaUrl` as its existing Ollama (no
 * registry here to pull one from); `path` may put a podman wrapper first.
 */
export async function startWorkerNode(
  cleanup: Cleanup,
  orch: Orchestrator,
  opts: { slug: string; maxConcurrency: number; ollamaUrl: string; path?: string },
): Promise<WorkerNode> {
  const stateDir = await tempDir(cleanup, `node-${opts.slug}`);
  const yaml = [
    "orchestrator:",
    `  url: ${orch.controlPlaneUrl}`,
    "node:",
    `  id: ${opts.slug}`,
    "worker_api:",
    "  listen_host: 127.0.0.1",
    "  listen_port: 0",
    "sandbox:",
    `  max_concurrency: ${opts.maxConcurrency}`,
    `  containers_conf: ${CONTAINERS_CONF}`,
    "inference:",
    `  upstream_url: ${opts.ollamaUrl}`,
    "storage:",
    `  state_dir: ${stateDir}`,
  ].join("\n");
  await Bun.write(join(stateDir, "node.yaml"), yaml + "\n");
  // Whatever happens to the process, its containers go.
  cleanup.add(() => removeNodeContainers(opts.slug));
  const service = startService(cleanup, [bin("worker-node"), "--config", join(stateDir, "node.yaml")], {
    NODE_REGISTRATION_PSK: orch.psk,
    LOG_LEVEL: "info",
    ...(opts.path ? { PATH: opts.path } : {}),
  });
  const ready = await logLine(service, "node ready", 120_000);
  return { service, url: String(ready.worker_api), slug: opts.slug, stateDir };
}

export async function removeNodeContainers(slug: string): Promise<void> {
  const env = { ...process.env, CONTAINERS_CONF };
  // Its inference pods first (their containers go with them), then any other container of the node.
  const pods = Bun.spawn(["podman", "pod", "ps", "-q", `--filter=label=cynodeai.node=${slug}`], {
    env,
    stdout: "pipe",
  });
  const podIds = (await new Response(pods.stdout).text()).split("\n").filter(Boolean);
  if (podIds.length)
    await Bun.spawn(["podman", "pod", "rm", "-f", "-t", "0", ...podIds], { env, stdout: "ignore", stderr: "ignore" })
      .exited;
  const ps = Bun.spawn(["podman", "ps", "-aq", `--filter=label=cynodeai.node=${slug}`], { env, stdout: "pipe" });
  const ids = (await new Response(ps.stdout).text()).split("\n").filter(Boolean);
  if (ids.length)
    await Bun.spawn(["podman", "rm", "-f", "-t", "0", ...ids], { env, stdout: "ignore", stderr: "ignore" }).exited;
}

export async function login(gatewayUrl: string): Promise<string> {
  const res = await fetch(`${gatewayUrl}/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ handle: "admin", password: ADMIN_PASSWORD }),
  });
  if (!res.ok) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** Milliseconds since the epoch of a log line's `time`. */
export const at = (l: LogLine) => Date.parse(String(l.time));
