/**
 * One launched sandbox: a container with exactly a job's isolation (no network or its pod's, limits, read-only
 * root, its own /workspace tmpfs), started through the podman service, whose first shell holds its FIFOs and waits
 * for one job (launcher.ts). A cold one is started for its job, a warm one ahead of it (warm-sandboxes.ts); either
 * runs one job and is gone, never reused. Its container removes itself when it exits.
 *
 * Its standard streams need no podman in between: three FIFOs in a per-sandbox host directory mounted read-only at
 * IO_DIR (a FIFO stays writable on a read-only mount; nothing else there is), which its first shell opens as stdin,
 * stdout and stderr. The worker opens its ends before the sandbox starts, never by path again (the sandbox cannot
 * swap a FIFO for a link to a host file, and could not anyway), and reads the job's output straight from them,
 * sees the job's end from marks the launcher prints after it, and hands the job over by writing its launcher into
 * the directory and one line on the sandbox's stdin. The worker holds every FIFO open read-write while the sandbox
 * lives: the sandbox's opens never block, its writes never meet a FIFO without a reader (however late Bun opens its
 * own), and `out`/`err` reach their end only once the worker lets go after the sandbox exited. A sandbox whose
 * worker died reads EOF on `in` and exits.
 */
import { chown, chmod, closeSync, constants, openSync, writeSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { SANDBOX_ID_BASE, type ContainerLimits, type Mount } from "./container-spec";
import type { JobDirs } from "./job-sandbox";
import { IO_DIR, jobLauncher, LAUNCHER_FILE, newEndMark, READY_MARK, WAITING_COMMAND } from "./launcher";
import type { Podman } from "./podman";
import type { EgressLog } from "../egress/egress-records";
import type { TaskFileView } from "../../contracts/task-files";
import { ARTIFACTS_FIFO, artifactLines, collectArtifacts, type ArtifactReport } from "./job-files";
import { captureText, type Captured } from "./truncate-utf8";

/**
 * Where a sandbox lives besides its own container (an inference or restricted pod): mounts and env to add, a pod to
 * join, and for a restricted job the record of its egress.
 */
export type Placement = {
  pod?: string;
  mounts: Mount[];
  env: Record<string, string>;
  release(): Promise<void>;
  egress?: EgressLog;
};

export type SandboxPlan = {
  name: string;
  image: string;
  labels: Record<string, string>;
  limits: ContainerLimits;
  workdir: string;
  workspaceMb: number;
  dirs: JobDirs;
  placement?: Placement;
  /** podman's own deadline (cold sandboxes, whose job timeout is known at start). */
  deadlineSeconds?: number;
};

export type JobToRun = {
  command: string[];
  env: Record<string, string>;
  timeoutSeconds: number;
  /** Launcher lines before the job (its attachments, job-files.ts). */
  before?: string[];
  /** Collects what the job leaves in /job/artifacts, read from the `art` FIFO (job-files.ts). */
  artifacts?: ArtifactSink;
};
export type ArtifactSink = { capBytes: number; store: (name: string, data: Uint8Array) => Promise<TaskFileView> };
export type JobOutcome = { stdout: Captured; stderr: Captured; exitCode: number; artifacts?: ArtifactReport };

export type Sandbox = {
  /** The name it was started under (its deadline entry's key); a warm sandbox gets its job's name later. */
  name: string;
  /** podman's id: what removes it, whatever it is called by then. */
  id: string;
  /** Names it after its job (a warm one, when it takes the job: podman cannot add labels to a container). */
  rename(name: string): Promise<void>;
  /** The host directory mounted at IO_DIR (read-only inside): the job's attachments are placed there first. */
  ioDir: string;
  /** The pod it shares (its placement's), if any. */
  pod?: string;
  /** The placement's env (e.g. OLLAMA_BASE_URL in an inference pod). */
  env: Record<string, string>;
  /** A restricted job's egress so far (its placement's): what the job's result records, and whether any was refused. */
  egress?: EgressLog;
  /** The container's exit code once it has exited (-1 when podman cannot tell). */
  exited: Promise<number>;
  /** Hands the job over and collects its output up to its end marks (or the sandbox's end). */
  run(job: JobToRun, maxOutputBytes: number): Promise<JobOutcome>;
  /** Hands over a launcher that keeps reading requests (an agent job's tool loop): the worker keeps `in` open. */
  serve(launcher: string): Promise<SessionIo>;
  /** Removes the container at once, killing what runs in it. */
  kill(): Promise<void>;
  /** Releases what the sandbox holds once it is done (its container, placement and directories). */
  dispose(): Promise<void>;
};

const FIFOS = ["in", "out", "err", ARTIFACTS_FIFO] as const;
const { O_RDONLY, O_RDWR, O_NONBLOCK, O_NOFOLLOW } = constants;

/** A served sandbox's channel: request lines on `in`, files in the io directory, answers on `out`. */
export type SessionIo = {
  /** One short line on the sandbox's stdin (never blocks: the worker holds the FIFO open). */
  send(line: string): void;
  /** Writes a file into the io directory (the worker's own, read-only to the sandbox) and removes it. */
  put(name: string, data: string | Uint8Array): Promise<void>;
  drop(name: string): Promise<void>;
  output: ReadableStream<Uint8Array>;
  stderr: ReadableStream<Uint8Array>;
  /** What the launcher's artifact lines write of /job/artifacts once its loop has ended. */
  artifacts: ReadableStream<Uint8Array>;
  /** Ends the request loop with its `end` line (`in` stays held until the sandbox is released). */
  end(): void;
};

export type SandboxIo = {
  /** Opened before the sandbox starts; each closes its descriptor at its end or cancel. */
  stdout: ReadableStream<Uint8Array>;
  stderr: ReadableStream<Uint8Array>;
  /** What the launcher writes of /job/artifacts after the job. */
  artifacts: ReadableStream<Uint8Array>;
  /** Writes the job's launcher and tells the waiting sandbox to run it; `keepInput` leaves `in` open for `send`. */
  handOver(launcher: string | Uint8Array, keepInput?: boolean): Promise<void>;
  send(line: string): void;
  /** True once the worker let go of `in` (handed over without keeping it, or closed). */
  inputClosed(): boolean;
  dir: string;
  /** Lets go of the worker's own ends: once the sandbox is gone too, the streams end. */
  close(): void;
};

async function mkfifos(dir: string): Promise<void> {
  const p = Bun.spawn(["mkfifo", "-m", "0600", ...FIFOS.map((f) => join(dir, f))], { stderr: "pipe" });
  const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`mkfifo failed: ${err.trim()}`);
}

/**
 * A stream of one FIFO read end, opened now: it closes its descriptor at its end or cancel, and `close()` cancels it
 * if nobody ever read it.
 */
function fifoReader(path: string) {
  const fd = openSync(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW);
  let open = true;
  const closeFd = () => {
    if (open) closeSync(fd);
    open = false;
  };
  const reader = Bun.file(fd).stream().getReader();
  const stream = new ReadableStream<Uint8Array>(
    {
      pull: async (c) => {
        const r = await reader.read();
        if (!r.done) return c.enqueue(r.value);
        closeFd();
        c.close();
      },
      cancel: async (why) => {
        await reader.cancel(why);
        closeFd();
      },
    },
    // Read only when asked: nothing waits on the descriptor of a stream nobody reads.
    { highWaterMark: 0 },
  );
  return { stream, close: () => void (stream.locked ? undefined : stream.cancel().catch(() => {})) };
}

/**
 * Creates the FIFOs in `dir` (owned by the sandboxes' root; the directory stays the host root's) and takes the
 * worker's ends.
 */
export async function openSandboxIo(dir: string): Promise<SandboxIo> {
  await mkfifos(dir);
  const paths = FIFOS.map((f) => join(dir, f));
  const own = promisify(chown);
  await Promise.all(paths.map((p) => own(p, SANDBOX_ID_BASE, SANDBOX_ID_BASE)));
  // Searchable, not listable or writable, by the sandbox's root: it opens the FIFOs and its launcher by name.
  await promisify(chmod)(dir, 0o711);
  // Read-write: opening never blocks or fails, with or without the sandbox at the other end.
  const held = new Map(FIFOS.map((f, i) => [f, openSync(paths[i]!, O_RDWR | O_NONBLOCK | O_NOFOLLOW)]));
  const readers = [fifoReader(paths[1]!), fifoReader(paths[2]!), fifoReader(paths[3]!)] as const;
  const drop = (...names: (typeof FIFOS)[number][]) => {
    for (const n of names) {
      const fd = held.get(n);
      held.delete(n);
      if (fd !== undefined) closeSync(fd);
    }
  };
  return {
    stdout: readers[0].stream,
    stderr: readers[1].stream,
    artifacts: readers[2].stream,
    dir,
    async handOver(launcher, keepInput = false) {
      await Bun.write(join(dir, LAUNCHER_FILE), launcher);
      const input = held.get("in");
      if (input === undefined) throw new Error("the sandbox was already handed a job");
      // One short line into a FIFO the worker itself holds open: it never blocks, whatever the sandbox does.
      writeSync(input, "go\n");
      if (!keepInput) drop("in");
    },
    inputClosed: () => !held.has("in"),
    send(line) {
      const input = held.get("in");
      if (input === undefined) throw new Error("the sandbox's input is closed");
      writeSync(input, line);
    },
    close() {
      drop(...FIFOS);
      for (const r of readers) r.close();
    },
  };
}

/** How long a finished sandbox may take to exit by itself before it is removed. */
const EXIT_GRACE_MS = 10_000;

/** Resolves once `mark` has been read from the stream; the returned stream carries everything after it. */
export async function afterMark(stream: ReadableStream<Uint8Array>, mark: string): Promise<ReadableStream<Uint8Array>> {
  const reader = stream.getReader();
  const want = new TextEncoder().encode(mark);
  const seen: number[] = [];
  let rest: Uint8Array | undefined;
  while (seen.length < want.length) {
    const { value, done } = await reader.read();
    if (done) throw new Error(new TextDecoder().decode(new Uint8Array(seen)).trim() || "the sandbox exited");
    const need = want.length - seen.length;
    seen.push(...value.subarray(0, need));
    if (value.length > need) rest = value.subarray(need);
  }
  if (!want.every((b, i) => seen[i] === b)) {
    // Not our mark: whatever came instead (an error) is read to its end and reported.
    const dec = new TextDecoder();
    let text = dec.decode(new Uint8Array(seen)) + (rest ? dec.decode(rest) : "");
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += dec.decode(r.value);
    throw new Error(text.trim());
  }
  return new ReadableStream<Uint8Array>({
    start: (c) => void (rest && c.enqueue(rest)),
    pull: async (c) => {
      const r = await reader.read();
      if (r.done) c.close();
      else c.enqueue(r.value);
    },
    cancel: (why) => reader.cancel(why),
  });
}

function containerSpec(plan: SandboxPlan) {
  return {
    name: plan.name,
    image: plan.image,
    command: WAITING_COMMAND,
    env: {},
    labels: plan.labels,
    limits: plan.limits,
    workdir: plan.workdir,
    workspace: { target: plan.workdir, sizeMb: plan.workspaceMb },
    mounts: [{ source: plan.dirs.io, target: IO_DIR, readOnly: true }, ...(plan.placement?.mounts ?? [])],
    pod: plan.placement?.pod,
    deadlineSeconds: plan.deadlineSeconds,
  };
}

/** Starts the container and waits until its shell holds the FIFOs; on any failure nothing of it is left. */
export async function startSandbox(podman: Podman, plan: SandboxPlan): Promise<Sandbox> {
  const io = await openSandboxIo(plan.dirs.io);
  const release = async () => {
    io.close();
    try {
      await plan.placement?.release();
    } finally {
      await plan.dirs.remove();
    }
  };
  let exited: Promise<number> | undefined;
  try {
    const id = await podman.api.run(containerSpec(plan));
    exited = podman.api.wait(id).catch(() => -1);
    const stopped = exited.then((code) =>
      Promise.reject(new Error(`the sandbox exited (${code}) before it was ready`)),
    );
    const ready = afterMark(io.stderr, READY_MARK);
    // Whichever loses the race settles later, unobserved.
    for (const p of [stopped, ready]) p.catch(() => {});
    const stderr = await Promise.race([ready, stopped]);
    // Without its marks (it died by itself), a job's output ends when the sandbox is gone and the worker lets go.
    void exited.then(() => io.close());
    return sandboxHandle(podman, plan, { id, io, stderr, exited, release });
  } catch (err) {
    if (exited) await podman.api.remove(plan.name).catch(() => {});
    await release();
    throw err;
  }
}

type Started = {
  id: string;
  io: Awaited<ReturnType<typeof openSandboxIo>>;
  stderr: ReadableStream<Uint8Array>;
  exited: Promise<number>;
  release: () => Promise<void>;
};

function sandboxHandle(podman: Podman, plan: SandboxPlan, s: Started): Sandbox {
  let handedOver = false;
  // Once removed, nothing of the sandbox holds its FIFOs: letting go ends the job's streams at once.
  const kill = async () => {
    await podman.api.remove(s.id);
    s.io.close();
  };
  return {
    name: plan.name,
    id: s.id,
    rename: (name) => podman.api.rename(s.id, name),
    ioDir: plan.dirs.io,
    pod: plan.placement?.pod,
    env: plan.placement?.env ?? {},
    egress: plan.placement?.egress,
    exited: s.exited,
    kill,
    async run(job, max) {
      const endMark = newEndMark();
      handedOver = true;
      const sink = job.artifacts;
      await s.io.handOver(jobLauncher({ ...job, endMark, after: sink && artifactLines(sink.capBytes) }));
      const [stdout, stderr, artifacts] = await Promise.all([
        captureText(s.io.stdout, max, { mark: endMark }),
        captureText(s.stderr, max, { mark: `${endMark} `, line: true }),
        sink && collectArtifacts(s.io.artifacts, sink),
      ]);
      const reported = stderr.marked && /^\d+$/.test(stderr.trailer);
      const exitCode = reported ? Number(stderr.trailer) : await s.exited;
      return { stdout, stderr, exitCode, ...(artifacts ? { artifacts } : {}) };
    },
    async serve(launcher) {
      handedOver = true;
      await s.io.handOver(launcher, true);
      const dir = s.io.dir;
      return {
        send: (line) => s.io.send(line),
        put: async (name, data) => void (await Bun.write(join(dir, name), data)),
        drop: (name) => rm(join(dir, name), { force: true }),
        output: s.io.stdout,
        stderr: s.stderr,
        artifacts: s.io.artifacts,
        end: () => {
          // Already released (a kill, a cancel): its loop is gone with it.
          if (!s.io.inputClosed()) s.io.send("end\n");
        },
      };
    },
    async dispose() {
      // A sandbox that ran its job exits by itself right after its end marks; one that never got a job is removed.
      const gone = handedOver && (await Promise.race([s.exited.then(() => true), Bun.sleep(EXIT_GRACE_MS)]));
      if (!gone) await kill();
      await s.release();
    },
  };
}
