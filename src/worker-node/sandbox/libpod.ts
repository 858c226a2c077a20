/**
 * The node's own `podman system service` and its libpod REST API. One long-lived podman process answers on a
 * private Unix socket, so starting or removing a sandbox costs an HTTP call instead of a new podman process (whose
 * start-up is most of a bare `podman run`'s CPU). The service starts on first use, comes back when it dies, and is
 * killed with the node (`setpriv --pdeathsig`), so it never outlives the worker even after a SIGKILL. Containers do
 * not depend on it: conmon owns them, and their I/O does not pass through it.
 *
 * A `ContainerSpec` becomes the same container `containerArgs` describes on the command line (a test creates both
 * and compares their inspect output), created, started, awaited and removed with one HTTP call each.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkSpec, hardeningFields, SANDBOX_ID_BASE, SANDBOX_ID_COUNT, type ContainerSpec } from "./container-spec";

const API = "http://podman/v4.0.0/libpod";

export class LibpodError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const bind = (m: NonNullable<ContainerSpec["mounts"]>[number]) => ({
  destination: m.target,
  type: "bind",
  source: m.source,
  options: ["rbind", m.readOnly ? "ro" : "rw", ...(m.chown ? ["U"] : [])],
});

/** The libpod SpecGenerator of a hardened, throw-away sandbox (`remove`: conmon's cleanup removes it at exit). */
export function createBody(spec: ContainerSpec) {
  checkSpec(spec);
  const hardened = hardeningFields(spec);
  return {
    name: spec.name,
    image: spec.image,
    command: spec.command,
    env: spec.env,
    labels: spec.labels,
    remove: spec.autoRemove !== false,
    ...hardened,
    ...(spec.deadlineSeconds ? { timeout: Math.ceil(spec.deadlineSeconds) } : {}),
    mounts: [...hardened.mounts, ...(spec.mounts ?? []).map(bind)],
    ...(spec.workdir ? { work_dir: spec.workdir } : {}),
  };
}

export type Libpod = {
  /** Creates the container (not started); resolves to its id. */
  create(spec: ContainerSpec): Promise<string>;
  /** Creates and starts the container; resolves to its id. */
  run(spec: ContainerSpec): Promise<string>;
  /** Resolves to the exit code once the container has exited (noticed within 2 s). */
  wait(id: string): Promise<number>;
  /** Removes at once (killing it if it runs); a container already gone is no error. */
  remove(nameOrId: string): Promise<void>;
  /** Names of the containers (any state) carrying all these labels. */
  list(labels: Record<string, string>): Promise<string[]>;
  /** Gives a container (running or not) a new name; its id stays. */
  rename(id: string, name: string): Promise<void>;
  /** Creates a pod with no network and the sandboxes' user namespace (its members share both). */
  createPod(name: string, labels: Record<string, string>): Promise<string>;
  /** Removes the pod and its containers at once; a pod already gone is no error. */
  removePod(nameOrId: string): Promise<void>;
  /** Names of the pods carrying all these labels. */
  listPods(labels: Record<string, string>): Promise<string[]>;
};

const labelFilter = (labels: Record<string, string>) =>
  encodeURIComponent(JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) }));

/** The pod of inference jobs: loopback only, one user namespace (podman refuses one per member), a fixed hostname. */
export const podBody = (name: string, labels: Record<string, string>) => ({
  name,
  labels,
  hostname: "sandbox",
  netns: { nsmode: "none" },
  userns: { nsmode: "private" },
  idmappings: { UIDMap: podIdMap, GIDMap: podIdMap },
});
const podIdMap = [{ container_id: 0, host_id: SANDBOX_ID_BASE, size: SANDBOX_ID_COUNT }];

export function createLibpod(service: PodmanService): Libpod {
  /** `long`: an answer that may take as long as a container lives (no idle limit). */
  async function call(method: string, path: string, body?: unknown, long = false): Promise<Response> {
    const res = await fetch(`${API}${path}`, {
      method,
      unix: await service.socket(),
      ...(long ? { timeout: false } : {}),
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    } as RequestInit);
    if (res.ok || res.status === 304) return res;
    const text = await res.text();
    let message = text.trim();
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {}
    throw new LibpodError(res.status, message || `podman service answered ${res.status}`);
  }
  const named = (id: string) => encodeURIComponent(id);
  /** Removes a container or pod without a stop grace; one already gone is no error. */
  async function removeAtOnce(path: string): Promise<void> {
    try {
      await (await call("DELETE", `${path}?force=true&timeout=0`)).body?.cancel();
    } catch (err) {
      if (!(err instanceof LibpodError && err.status === 404)) throw err;
    }
  }
  const create = async (spec: ContainerSpec) =>
    ((await (await call("POST", "/containers/create", createBody(spec))).json()) as { Id: string }).Id;
  return {
    create,
    async run(spec) {
      const id = await create(spec);
      await (await call("POST", `/containers/${id}/start`)).body?.cancel();
      return id;
    },
    async wait(id) {
      // podman polls the container's state for a wait: every 2 s instead of its 250 ms default, as a sandbox that
      // ends normally is known by its end marks, and one the worker kills by the removal.
      const res = await call("POST", `/containers/${named(id)}/wait?condition=exited&interval=2s`, undefined, true);
      return Number(await res.text());
    },
    remove: (id) => removeAtOnce(`/containers/${named(id)}`),
    async list(labels) {
      const res = await call("GET", `/containers/json?all=true&filters=${labelFilter(labels)}`);
      return ((await res.json()) as { Names: string[] }[]).map((c) => c.Names[0]!);
    },
    async rename(id, name) {
      await (await call("POST", `/containers/${named(id)}/rename?name=${named(name)}`)).body?.cancel();
    },
    async createPod(name, labels) {
      return ((await (await call("POST", "/pods/create", podBody(name, labels))).json()) as { Id: string }).Id;
    },
    removePod: (id) => removeAtOnce(`/pods/${named(id)}`),
    async listPods(labels) {
      const res = await call("GET", `/pods/json?filters=${labelFilter(labels)}`);
      return ((await res.json()) as { Name: string }[]).map((p) => p.Name);
    },
  };
}

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

/**
 * A service owned by whoever creates it (the node's podman adapter): nothing is shared between adapters, so closing
 * one never stops a service another still uses.
 */
export function createPodmanService(opts: ServiceOptions): PodmanService {
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
      await starting?.catch(() => {});
      proc?.kill("SIGTERM");
      await proc?.exited;
      proc = undefined;
      if (dir) await rm(await dir, { recursive: true, force: true });
      dir = undefined;
    },
  };
}
