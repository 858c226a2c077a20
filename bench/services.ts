/**
 * The real executables (dist/bin) as benchmark subjects: temp state dirs, port 0, URLs read from their JSON log
 * lines, every log line kept (the dispatch split is computed from them), and everything undone by one cleanup.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "..");
/** dist/bin, or CYNODE_BENCH_BIN_DIR (e.g. another build's binaries, for a before/after comparison). */
export const bin = (name: string) => join(process.env.CYNODE_BENCH_BIN_DIR || join(ROOT, "dist", "bin"), name);
export const CONTAINERS_CONF = join(ROOT, "containers", "containers.conf");
export const SANDBOX_IMAGE = "localhost/cynode-sandbox:latest";
export const ADMIN_PASSWORD = "bench-admin-password";

export type LogLine = { time?: string; msg?: string; [k: string]: unknown };

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

export type Service = {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  lines: LogLine[];
  /** Resolves with the first log line (already seen or still to come) that matches. */
  waitFor(match: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Stops keeping (and parsing) log lines, so a chatty service under load costs the benchmark nothing. */
  mute(): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves to the exit code (null when killed). */
  stop(graceMs?: number): Promise<number | null>;
};

function parse(text: string): LogLine {
  try {
    const v = JSON.parse(text);
    return typeof v === "object" && v ? v : { msg: text };
  } catch {
    return { msg: text };
  }
}

/** Spawns `argv`, reading JSON log lines from stderr (and plain stdout lines) until it exits. Registers its stop. */
export function startService(cleanup: Cleanup, argv: string[], env: Record<string, string | undefined>): Service {
  const proc = Bun.spawn(argv, { env: { ...process.env, ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const lines: LogLine[] = [];
  const waiters = new Set<() => void>();
  let muted = false;
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    const decoder = new TextDecoder();
    for await (const bytes of stream) {
      if (muted) continue;
      const parts = (rest + decoder.decode(bytes, { stream: true })).split("\n");
      rest = parts.pop()!;
      for (const p of parts) if (p.trim()) lines.push(parse(p));
      for (const w of waiters) w();
    }
  };
  const pumped = Promise.all([pump(proc.stderr), pump(proc.stdout)]);
  void Promise.all([pumped, proc.exited]).finally(() => [...waiters].forEach((w) => w()));
  const stop = async (graceMs = 15_000) => {
    if (proc.exitCode !== null || proc.signalCode) return proc.exitCode;
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
    await proc.exited;
    clearTimeout(timer);
    await pumped;
    return proc.exitCode;
  };
  cleanup.add(() => stop());
  return {
    proc,
    lines,
    stop,
    mute: () => void (muted = true),
    waitFor(match, timeoutMs = 60_000) {
      return new Promise((resolvePromise, reject) => {
        const deadline = setTimeout(() => done(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
        const check = () => {
          const hit = lines.find(match);
          if (hit) done(undefined, hit);
          else if (proc.exitCode !== null || proc.signalCode) done(new Error(`exited ${proc.exitCode ?? proc.signalCode}`));
        };
        function done(err?: Error, hit?: LogLine) {
          clearTimeout(deadline);
          waiters.delete(check);
          if (hit) resolvePromise(hit);
          else reject(new Error(`${argv[0]}: ${err!.message} while waiting; log tail:\n${lines.slice(-15).map((l) => JSON.stringify(l)).join("\n")}`));
        }
        waiters.add(check);
        check();
      });
    },
  };
}

/** A port free right now (the kernel's pick for port 0). */
export function freePort(): number {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = server.port!;
  server.stop(true);
  return port;
}

export type Orchestrator = { service: Service; gatewayUrl: string; controlPlaneUrl: string; stateDir: string; psk: string };

export async function startOrchestrator(cleanup: Cleanup, env: Record<string, string> = {}, stateDir?: string): Promise<Orchestrator> {
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
  const url = async (msg: string) => String((await service.waitFor((l) => l.msg === msg, 120_000)).url).replace(/\/$/, "");
  const controlPlaneUrl = await url("control-plane listening");
  const gatewayUrl = await url("user gateway listening");
  return { service, gatewayUrl, controlPlaneUrl, stateDir: dir, psk };
}

export type WorkerNode = { service: Service; url: string; slug: string; stateDir: string };

/** The Ollama-API-compatible test double (never inference) in its own process; resolves to its URL. */
export async function startOllamaDouble(cleanup: Cleanup, socket?: string): Promise<string> {
  const double = startService(cleanup, ["bun", join(import.meta.dir, "ollama-double.ts"), ...(socket ? [socket] : [])], {});
  return String((await double.waitFor((l) => l.msg === "ollama test double listening")).url);
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
  const ready = await service.waitFor((l) => l.msg === "node ready", 120_000);
  return { service, url: String(ready.worker_api), slug: opts.slug, stateDir };
}

export async function removeNodeContainers(slug: string): Promise<void> {
  const env = { ...process.env, CONTAINERS_CONF };
  const ps = Bun.spawn(["podman", "ps", "-aq", `--filter=label=cynodeai.node=${slug}`], { env, stdout: "pipe" });
  const ids = (await new Response(ps.stdout).text()).split("\n").filter(Boolean);
  if (ids.length) await Bun.spawn(["podman", "rm", "-f", "-t", "0", ...ids], { env, stdout: "ignore", stderr: "ignore" }).exited;
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
