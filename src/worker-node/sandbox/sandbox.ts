/**
 * One launched sandbox: a container with exactly a job's isolation (no network or its pod's, limits, read-only
 * root, its own /workspace tmpfs), started through the podman service, whose first shell holds its FIFOs and waits
 * for one job (launcher.ts, sandbox-io.ts). A cold one is started for its job, a warm one ahead of it
 * (warm-pool.ts); either runs one job and is gone, never reused. Its container removes itself when it exits.
 */
import type { ContainerLimits, Mount } from "./container-spec";
import type { JobDirs } from "./job-dirs";
import { jobLauncher, newEndMark, READY_MARK, WAITING_COMMAND } from "./launcher";
import type { Podman } from "./podman";
import { IO_DIR, openSandboxIo } from "./sandbox-io";
import { captureText, type Captured } from "./truncate-utf8";

/** Where a sandbox lives besides its own container (an inference pod): mounts and env to add, a pod to join. */
export type Placement = { pod?: string; mounts: Mount[]; env: Record<string, string>; release(): Promise<void> };

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

export type JobToRun = { command: string[]; env: Record<string, string>; timeoutSeconds: number };
export type JobOutcome = { stdout: Captured; stderr: Captured; exitCode: number };

export type Sandbox = {
  name: string;
  /** The placement's env (e.g. OLLAMA_BASE_URL in an inference pod). */
  env: Record<string, string>;
  /** The container's exit code once it has exited (-1 when podman cannot tell). */
  exited: Promise<number>;
  /** Hands the job over and collects its output up to its end marks (or the sandbox's end). */
  run(job: JobToRun, maxOutputBytes: number): Promise<JobOutcome>;
  /** Removes the container at once, killing what runs in it. */
  kill(): Promise<void>;
  /** Releases what the sandbox holds once it is done (its container, placement and directories). */
  dispose(): Promise<void>;
};

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
    mounts: [{ source: plan.dirs.io, target: IO_DIR }, ...(plan.placement?.mounts ?? [])],
    pod: plan.placement?.pod,
    deadlineSeconds: plan.deadlineSeconds,
  };
}

/** Starts the container and waits until its shell holds the FIFOs; on any failure nothing of it is left. */
export async function startSandbox(podman: Podman, plan: SandboxPlan): Promise<Sandbox> {
  const io = await openSandboxIo(plan.dirs.io);
  const release = async () => {
    io.close();
    await plan.placement?.release();
    await plan.dirs.remove();
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
    // Without its marks (killed, timed out), a job's output ends when the sandbox is gone and the worker lets go.
    void exited.then(() => io.close());
    return sandboxHandle(podman, plan, { io, stderr, exited, release });
  } catch (err) {
    if (exited) await podman.api.remove(plan.name).catch(() => {});
    await release();
    throw err;
  }
}

type Started = {
  io: Awaited<ReturnType<typeof openSandboxIo>>;
  stderr: ReadableStream<Uint8Array>;
  exited: Promise<number>;
  release: () => Promise<void>;
};

function sandboxHandle(podman: Podman, plan: SandboxPlan, s: Started): Sandbox {
  let handedOver = false;
  const kill = () => podman.api.remove(plan.name);
  return {
    name: plan.name,
    env: plan.placement?.env ?? {},
    exited: s.exited,
    kill,
    async run(job, max) {
      const endMark = newEndMark();
      handedOver = true;
      await s.io.handOver(jobLauncher({ ...job, endMark }));
      const [stdout, stderr] = await Promise.all([
        captureText(s.io.stdout, max, { mark: endMark }),
        captureText(s.stderr, max, { mark: `${endMark} `, line: true }),
      ]);
      const reported = stderr.marked && /^\d+$/.test(stderr.trailer);
      return { stdout, stderr, exitCode: reported ? Number(stderr.trailer) : await s.exited };
    },
    async dispose() {
      // A sandbox that ran its job exits by itself right after its end marks; one that never got a job is removed.
      const gone = handedOver && (await Promise.race([s.exited.then(() => true), Bun.sleep(EXIT_GRACE_MS)]));
      if (!gone) await kill();
      await s.release();
    },
  };
}
