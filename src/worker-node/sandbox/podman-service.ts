/**
 * The node's own `podman system service`: one long-lived podman process answering the libpod REST API on a private
 * Unix socket, so starting or removing a sandbox costs an HTTP call instead of a new podman process (whose start-up
 * is most of a bare `podman run`'s CPU). Started on first use, restarted when it dies, killed with the node
 * (`setpriv --pdeathsig`), so it never outlives the worker even after a SIGKILL. Containers do not depend on it:
 * conmon owns them, and their I/O does not pass through it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type ServiceOptions = { bin: string; env: Record<string, string> };
export type PodmanService = {
  /** The socket of a running service (started, or restarted, when needed). */
  socket(): Promise<string>;
  close(): Promise<void>;
};

const READY_TIMEOUT_MS = 20_000;

async function answers(socket: string): Promise<boolean> {
  try {
    const res = await fetch("http://podman/_ping", { unix: socket, signal: AbortSignal.timeout(1000) } as RequestInit);
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** argv of the service; under `setpriv --pdeathsig KILL` where util-linux has it (every Debian). */
export function serviceArgv(bin: string, socket: string, setpriv = Bun.which("setpriv")): string[] {
  const service = [bin, "system", "service", "--time=0", `unix://${socket}`];
  return setpriv ? [setpriv, "--pdeathsig", "KILL", "--", ...service] : service;
}

async function launch(opts: ServiceOptions, socket: string): Promise<Bun.Subprocess> {
  const proc = Bun.spawn(serviceArgv(opts.bin, socket), {
    env: opts.env,
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  const stderr = new Response(proc.stderr).text();
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await answers(socket))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill("SIGKILL");
      const why = proc.exitCode !== null ? (await stderr).trim() : "no answer on its socket";
      throw new Error(`podman system service did not start: ${why || `exit ${proc.exitCode}`}`);
    }
    await Bun.sleep(20);
  }
  proc.unref();
  return proc;
}

const alive = (p: Bun.Subprocess) => p.exitCode === null && p.signalCode === null;

/** One service per podman binary and environment in this process, however many adapters use it. */
const services = new Map<string, PodmanService>();

export function createPodmanService(opts: ServiceOptions): PodmanService {
  const key = JSON.stringify([opts.bin, opts.env]);
  const shared = services.get(key) ?? startable(opts, () => services.delete(key));
  services.set(key, shared);
  return shared;
}

function startable(opts: ServiceOptions, forget: () => void): PodmanService {
  let dir: Promise<string> | undefined;
  let proc: Bun.Subprocess | undefined;
  /** One (re)start at a time: callers arriving meanwhile wait for it. */
  let starting: Promise<string> | undefined;
  async function ensure(): Promise<string> {
    dir ??= mkdtemp(join(tmpdir(), "cynode-podman-"));
    const socket = join(await dir, "podman.sock");
    if (!proc || !alive(proc)) proc = await launch(opts, socket);
    return socket;
  }
  return {
    socket() {
      if (proc && alive(proc) && !starting) return dir!.then((d) => join(d, "podman.sock"));
      starting ??= ensure().finally(() => (starting = undefined));
      return starting;
    },
    async close() {
      forget();
      await starting?.catch(() => {});
      proc?.kill("SIGTERM");
      await proc?.exited;
      proc = undefined;
      if (dir) await rm(await dir, { recursive: true, force: true });
      dir = undefined;
    },
  };
}
