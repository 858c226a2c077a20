/**
 * The node's own `podman system service` and its libpod REST API. One long-lived podman process answers on a
 * private Unix socket, so starting or removing a sandbox costs an HTTP call instead of a new podman process (whose
 * start-up is most of a bare `podman run`'s CPU). The service starts on first use, comes back when it dies, and is
 * killed with the node (`setpriv --pdeathsig`), so it never outlives the worker even after a SIGKILL. Containers do
 * not depend on it: conmon owns them, and their I/O does not pass through it.
 *
 * A `ContainerSpec` becomes the same container `containerArgs` describes on the command line (a test creates both
 * and compares their inspect output), created, started, awaited and removed with one HTTP call each. A container's
 * output, attached before it starts or read from its log, comes in podman's multiplexed frames (`frames`).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkSpec, hardeningFields, SANDBOX_ID_BASE, SANDBOX_ID_COUNT, type ContainerSpec } from "./container-spec";

const API = "http://podman/v4.0.0/libpod";
/** Removals tried when podman says a mount is still busy. */
const BUSY_ATTEMPTS = 5;

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

export type Output = { stdout: ReadableStream<Uint8Array>; stderr: ReadableStream<Uint8Array> };

export type Libpod = {
  /** Creates the container (not started); resolves to its id. */
  create(spec: ContainerSpec): Promise<string>;
  /** Starts a created container. */
  start(id: string): Promise<void>;
  /** Creates and starts the container; resolves to its id. */
  run(spec: ContainerSpec): Promise<string>;
  /** Resolves to the exit code once the container has exited (noticed within `interval`, 2 s unless told). */
  wait(id: string, interval?: string): Promise<number>;
  /** Its stdout and stderr from now to its end, through the service (no log needed): attached before it starts. */
  attach(id: string): Promise<Output>;
  /** The last `tail` lines of its log (a container that keeps one), stdout and stderr in the order podman logged. */
  logs(id: string, tail: number): Promise<string>;
  /** Whether the image is in local storage. */
  imageExists(image: string): Promise<boolean>;
  /** Pulls the image from its registry. */
  pull(image: string): Promise<void>;
  /** The service's podman version. */
  version(): Promise<string>;
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

/** One HTTP call to the service; `long`: an answer that may take as long as a container lives (no idle limit). */
type Call = (method: string, path: string, body?: unknown, long?: boolean) => Promise<Response>;

function caller(service: PodmanService): Call {
  return async (method, path, body, long = false) => {
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
  };
}

const named = (id: string) => encodeURIComponent(id);
/** Reads an answer to its end, when only its status matters. */
const done = async (res: Promise<Response>) => void (await (await res).body?.cancel());

/** What is asked of images and of the service itself. */
function imageCalls(call: Call): Pick<Libpod, "imageExists" | "pull" | "version"> {
  return {
    async imageExists(image) {
      try {
        await done(call("GET", `/images/${named(image)}/exists`));
        return true;
      } catch (err) {
        if (err instanceof LibpodError && err.status === 404) return false;
        throw err;
      }
    },
    async pull(image) {
      // Progress lines, then the image's id, or a line naming the error (the status stays 200 once streaming).
      const res = await call("POST", `/images/pull?reference=${named(image)}&quiet=true`, undefined, true);
      for (const line of (await res.text()).split("\n").filter(Boolean)) {
        const { error } = JSON.parse(line) as { error?: string };
        if (error) throw new LibpodError(500, error);
      }
    },
    async version() {
      return ((await (await call("GET", "/version")).json()) as { Version: string }).Version;
    },
  };
}

/** A container's output: attached (streams) or from its log (text). */
function outputCalls(call: Call): Pick<Libpod, "attach" | "logs"> {
  return {
    async attach(id) {
      const path = `/containers/${named(id)}/attach?stream=true&stdout=true&stderr=true`;
      return demux((await call("POST", path, undefined, true)).body!);
    },
    async logs(id, tail) {
      const res = await call("GET", `/containers/${named(id)}/logs?stdout=true&stderr=true&tail=${tail}`);
      const dec = new TextDecoder();
      let text = "";
      for await (const f of frames(res.body!)) text += dec.decode(f.payload, { stream: true });
      return text + dec.decode();
    },
  };
}

export function createLibpod(service: PodmanService): Libpod {
  const call = caller(service);
  /**
   * Removes a container or pod without a stop grace; one already gone is no error. podman 4.3 may still hold the
   * shm mount of a container that has just exited ("device or resource busy"): that is tried again, a few times.
   */
  async function removeAtOnce(path: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await done(call("DELETE", `${path}?force=true&timeout=0`));
      } catch (err) {
        if (err instanceof LibpodError && err.status === 404) return;
        if (attempt >= BUSY_ATTEMPTS || !/resource busy/.test((err as Error).message)) throw err;
      }
      await Bun.sleep(100 * attempt);
    }
  }
  const create = async (spec: ContainerSpec) =>
    ((await (await call("POST", "/containers/create", createBody(spec))).json()) as { Id: string }).Id;
  const start = (id: string) => done(call("POST", `/containers/${named(id)}/start`));
  return {
    ...imageCalls(call),
    ...outputCalls(call),
    create,
    start,
    async run(spec) {
      const id = await create(spec);
      await start(id);
      return id;
    },
    async wait(id, interval = "2s") {
      // podman polls the container's state for a wait: every 2 s instead of its 250 ms default, as a sandbox that
      // ends normally is known by its end marks, and one the worker kills by the removal.
      const path = `/containers/${named(id)}/wait?condition=exited&interval=${interval}`;
      return Number(await (await call("POST", path, undefined, true)).text());
    },
    remove: (id) => removeAtOnce(`/containers/${named(id)}`),
    async list(labels) {
      const res = await call("GET", `/containers/json?all=true&filters=${labelFilter(labels)}`);
      return ((await res.json()) as { Names: string[] }[]).map((c) => c.Names[0]!);
    },
    rename: (id, name) => done(call("POST", `/containers/${named(id)}/rename?name=${named(name)}`)),
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

export type Frame = { stream: number; payload: Uint8Array };

/**
 * podman's multiplexed output (a container without a terminal): frames of an 8-byte header (byte 0 the stream, 1
 * stdout or 2 stderr; bytes 4-7 the payload's size, big-endian) and the payload, however the reads cut them.
 */
export async function* frames(source: ReadableStream<Uint8Array>): AsyncGenerator<Frame> {
  let buf: Uint8Array = new Uint8Array(0);
  for await (const chunk of source) {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= 8) {
      const size = new DataView(buf.buffer, buf.byteOffset, 8).getUint32(4);
      if (buf.length < 8 + size) break;
      yield { stream: buf[0]!, payload: buf.subarray(8, 8 + size) };
      buf = buf.subarray(8 + size);
    }
  }
}

/**
 * Splits the frames into stdout and stderr (any other stream is dropped), fed as they come: whoever takes them reads
 * both sides to their end (captureText keeps its cap and counts the rest); a side cancelled is no longer fed.
 */
export function demux(source: ReadableStream<Uint8Array>): Output {
  const sides = [1, 2].map(() => {
    let c!: ReadableStreamDefaultController<Uint8Array>;
    let open = true;
    const stream = new ReadableStream<Uint8Array>({
      start: (ctrl) => void (c = ctrl),
      cancel: () => void (open = false),
    });
    return {
      stream,
      push: (b: Uint8Array) => open && c.enqueue(b),
      end: (err?: Error) => open && (err ? c.error(err) : c.close()),
    };
  });
  void (async () => {
    try {
      for await (const f of frames(source)) sides[f.stream - 1]?.push(f.payload);
      for (const s of sides) s.end();
    } catch (err) {
      for (const s of sides) s.end(err as Error);
    }
  })();
  return { stdout: sides[0]!.stream, stderr: sides[1]!.stream };
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
