/**
 * One warm sandbox: a container started with exactly a job's isolation (same flags, limits, no network or its own
 * pod, its own empty workspace) whose shell waits on stdin for one job's launcher. It is removed after that job.
 */
import { containerArgs, removeContainersArgs, type Podman, type PodmanProcess } from "./podman";
import { READY_MARK, WAITING_COMMAND } from "./launcher";
import type { Placement } from "./run-job";
import { createJobDirs } from "./workspace";

export const WARM_LABEL = "cynodeai.warm";

export type WarmSandbox = {
  name: string;
  proc: PodmanProcess;
  /** The job's stderr: what the sandbox writes after its ready mark. */
  stderr: ReadableStream<Uint8Array>;
  env: Record<string, string>;
  readonly died: Promise<unknown>;
  dispose(): Promise<void>;
};

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
    // Not our mark: podman's own error (bad image, bad flag) comes on this stream; read it to the end.
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

export type WarmSandboxDeps = {
  podman: Podman;
  nodeLabel: Record<string, string>;
  image: string;
  mountRoot: string;
  maxDiskMb?: number;
  limits: Parameters<typeof containerArgs>[0]["limits"];
  workdir: string;
  /** Where the sandbox lives besides its own container (an inference pod), prepared for this id. */
  place?: (id: string, labels: Record<string, string>) => Promise<Placement>;
};

export async function startWarmSandbox(d: WarmSandboxDeps): Promise<WarmSandbox> {
  const id = `warm-${crypto.randomUUID()}`;
  const name = `cynodeai-${id}`;
  const labels = { ...d.nodeLabel, [WARM_LABEL]: "1" };
  const dirs = await createJobDirs(d.mountRoot, id, d.maxDiskMb);
  let placement: Placement | undefined;
  let proc: PodmanProcess | undefined;
  const dispose = async () => {
    proc?.stdin && void Promise.resolve(proc.stdin.end()).catch(() => {});
    await d.podman.exec(removeContainersArgs([name]));
    await placement?.release();
    await dirs.remove();
  };
  try {
    placement = await d.place?.(id, labels);
    proc = d.podman.spawn(
      containerArgs({
        name,
        image: d.image,
        command: WAITING_COMMAND,
        env: {},
        labels,
        limits: d.limits,
        pod: placement?.pod,
        workdir: d.workdir,
        mounts: [{ source: dirs.workspace, target: d.workdir, owned: true }, ...(placement?.mounts ?? [])],
        interactive: true,
        // Removed after the job's exit is known, so the result never waits for the removal.
        autoRemove: false,
      }),
      { stdin: "pipe" },
    );
    const stderr = await afterMark(proc.stderr, READY_MARK);
    return { name, proc, stderr, env: placement?.env ?? {}, died: proc.exited, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}
