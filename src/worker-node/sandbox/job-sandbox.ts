/**
 * A job and its sandbox. What the runner accepts before anything is created: a safe job id, no job twice, free
 * capacity, an allowed image, an env podman cannot misread, a timeout within the node's and the orchestrator's
 * bounds; a refusal is a `SandboxRejection` naming its kind, which the Worker API turns into an HTTP status. Then a
 * launched job: the sandbox it runs in (a warm one when one with its isolation waits, else one started for it:
 * its directories, its placement such as an inference pod, then the sandbox itself), the job's timer and cancel,
 * and how its run ended. What the runner's parts share is a `RunnerContext`.
 */
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { EGRESS_NEEDS_RESTRICTED, type RunJobRequest } from "../../contracts/worker-api";
import type { Logger } from "../../lib/log";
import type { ContainerLimits } from "./container-spec";
import type { DeadlineKeeper } from "./deadline-keeper";
import type { Podman } from "./podman";
import { startSandbox, type Placement, type Sandbox } from "./sandbox";
import type { Captured } from "./truncate-utf8";
import { ARTIFACTS_DIR, ARTIFACTS_DIR_ENV } from "../../contracts/task-files";
import { jobFilesOf, type ArtifactReport, type JobFiles } from "./job-files";
import type { WarmSandboxes } from "./warm-sandboxes";
import type { EgressLog } from "../egress/egress-records";

export type PlaceJob = ((job: RunJobRequest) => Promise<Placement>) & {
  /** Places a warm sandbox ahead of its job, under its own id and labels. */
  prepare?: (id: string, labels: Record<string, string>) => Promise<Placement>;
  /** The pod a placement for this id is made in, named before it exists (so its deadline is held first). */
  podName?: (id: string) => string;
  /** Whether this job may take a placement `prepare` made before it was known (e.g. the same allowed models). */
  fitsWarm?: (job: RunJobRequest) => boolean;
};

export type RunnerContext = {
  podman: Podman;
  log: Logger;
  nodeSlug: string;
  mountRoot: string;
  defaultImage: string;
  limits: ContainerLimits;
  workspaceMb: number;
  maxOutputBytes: number;
  placeInferenceJob?: PlaceJob;
  /** Holds every sandbox's deadline outside it (deadline-keeper.ts). */
  deadlines: DeadlineKeeper;
  warmMaxIdleSeconds: number;
  /** The control-plane's side of jobs' files, once the node is registered (job-files.ts). */
  jobFiles?: JobFiles;
  /** What a job's artifacts may total (`sandbox.max_artifacts_mb`). */
  artifactCapBytes: number;
  /** Cleans up after a job off the result's path; the runner's shutdown waits for it. */
  track(cleanup: Promise<unknown>): void;
};

export const NODE_LABEL = "cynodeai.node";
/** How long after the job timeout podman's own deadline kills a container whose worker did not. */
export const SANDBOX_DEADLINE_GRACE_SECONDS = 2;
/** The keeper's deadline comes after podman's, so a live worker (or conmon) reports first. */
const KEEPER_GRACE_SECONDS = SANDBOX_DEADLINE_GRACE_SECONDS + 1;
/** Where the keeper's entries live, under the mount root. */
export const DEADLINES_DIR = ".deadlines";

/** Until its job is known, a sandbox's bound is its idle age, with time for the pool to replace it first. */
const idleBound = (ctx: RunnerContext) => ctx.warmMaxIdleSeconds + 60;

/** From hand-over on, a sandbox (and its pod) is removed from outside a little after its job's deadline. */
export const holdJobDeadline = (
  ctx: RunnerContext,
  s: { key: string; container: string; pod?: string },
  seconds: number,
) => ctx.deadlines.hold({ ...s, seconds: seconds + KEEPER_GRACE_SECONDS });

/**
 * A job's container, cold or warm (a warm one is renamed when it takes its job), so `podman ps --filter name=<task
 * id or job id>` finds it: per node too, as nodes sharing one podman (tests, one host) may each run the same job
 * after the other was lost. The task id is part of it when it is a valid name part (the orchestrator's UUIDs are).
 */
export function containerName(job: Pick<RunJobRequest, "task_id" | "job_id">, nodeSlug: string): string {
  const task = SAFE_JOB_ID.test(job.task_id) ? `${job.task_id}-` : "";
  return `cynodeai-job-${nodeSlug}-${task}${job.job_id}`;
}
export const jobLabels = (job: RunJobRequest, nodeSlug: string) => ({
  "cynodeai.task_id": job.task_id,
  "cynodeai.job_id": job.job_id,
  [NODE_LABEL]: nodeSlug,
});

/** A job's placement (e.g. its inference pod) could not be made: the job fails with this reason. */
export class PlacementError extends Error {}

/** The pod a job runs in: inference jobs' and restricted jobs' (whose sidecar is their proxy); others run alone. */
export function podPlacement(ctx: RunnerContext, job: RunJobRequest): PlaceJob | undefined {
  const restricted = job.sandbox.network_policy === "restricted";
  if (restricted && !ctx.placeInferenceJob) throw new SandboxRejection("invalid", NO_RESTRICTED_EGRESS);
  return job.sandbox.use_inference || restricted ? ctx.placeInferenceJob : undefined;
}
const NO_RESTRICTED_EGRESS = 'this node has no pods for network_policy "restricted"';

/** The placement, or why it could not be made. */
export const placed = (p: Promise<Placement>) =>
  p.catch((err: Error) => new PlacementError(`sandbox placement failed: ${err.message}`));

type SandboxRequest = {
  id: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  place?: () => Promise<Placement>;
  deadlineSeconds?: number;
};

export async function startJobSandbox(ctx: RunnerContext, r: SandboxRequest): Promise<Sandbox> {
  const dirs = await createJobDirs(ctx.mountRoot, r.id).catch((err) => {
    ctx.log.error("job directory creation failed", { id: r.id, error: err });
    throw new SandboxRejection("internal", "Workspace creation failed");
  });
  // Held before anything exists, so not even a pod half made when the node died outlives its bound.
  const pod = r.place && ctx.placeInferenceJob?.podName?.(r.id);
  await ctx.deadlines.hold({ container: r.name, pod, seconds: idleBound(ctx), idle: true }).catch(async (err) => {
    await dirs.remove();
    throw err;
  });
  const release = () => ctx.deadlines.release(r.name);
  const placement = r.place && (await placed(r.place()));
  if (placement instanceof PlacementError) {
    await dirs.remove();
    await release();
    throw placement;
  }
  const plan = { ...r, limits: ctx.limits, workdir: WORKSPACE_DIR, workspaceMb: ctx.workspaceMb, dirs, placement };
  // startSandbox leaves nothing behind when it fails (placement and directories included).
  const sandbox = await startSandbox(ctx.podman, plan).catch(async (err) => {
    await release();
    throw err;
  });
  // From now on its id: the name goes when a warm sandbox takes its job.
  await ctx.deadlines
    .hold({ key: r.name, container: sandbox.id, pod, seconds: idleBound(ctx), idle: true })
    .catch(async (err) => {
      await sandbox.dispose().finally(release);
      throw err;
    });
  const held = { key: r.name, container: sandbox.id, pod: placement?.pod };
  return { ...sandbox, dispose: () => removedOrLeft(ctx, held, sandbox.dispose) };
}

/**
 * Runs a sandbox's removal: its deadline entry goes once it succeeded; what could not be removed is left to the
 * keeper, due at once (it retries until the container and pod are gone), and the removal's error is passed on.
 */
export const removedOrLeft = (
  ctx: RunnerContext,
  s: { key: string; container: string; pod?: string },
  removal: () => Promise<void>,
) =>
  removal().then(
    () => ctx.deadlines.release(s.key),
    (err) => ctx.deadlines.hold({ ...s, seconds: 0 }).then(() => Promise.reject(err)),
  );

/** A sandbox started for its job: the job's labels, and podman's deadline a little after the job's own. */
function coldSandbox(ctx: RunnerContext, job: RunJobRequest, image: string, seconds: number) {
  const place = podPlacement(ctx, job);
  return startJobSandbox(ctx, {
    id: job.job_id,
    name: containerName(job, ctx.nodeSlug),
    image,
    labels: jobLabels(job, ctx.nodeSlug),
    place: place && (() => place(job)),
    // The sandbox owns its deadline (decision 14); a little later than ours, so a live worker reports `timeout`.
    deadlineSeconds: seconds + SANDBOX_DEADLINE_GRACE_SECONDS,
  });
}

export type JobDirs = { root: string; io: string; remove(): Promise<void> };

export async function createJobDirs(mountRoot: string, jobId: string): Promise<JobDirs> {
  if (!SAFE_JOB_ID.test(jobId)) throw new Error(`unsafe job id: ${jobId}`);
  const root = join(mountRoot, jobId);
  await mkdir(mountRoot, { recursive: true, mode: 0o700 });
  await rm(root, { recursive: true, force: true });
  const io = join(root, "io");
  await mkdir(io, { recursive: true, mode: 0o700 });
  return { root, io, remove: () => rm(root, { recursive: true, force: true }) };
}

/** Removes what a previous run of the node left under the mount root; returns how many there were. */
export async function removeStaleJobDirs(mountRoot: string): Promise<number> {
  const entries = await readdir(mountRoot).catch(() => [] as string[]);
  await Promise.all(entries.map((e) => rm(join(mountRoot, e), { recursive: true, force: true })));
  return entries.length;
}

/** How a run ended, as the runner saw it. */
export type RunEnd =
  | { kind: "exited"; exitCode: number; stdout: Captured; stderr: Captured; artifacts?: ArtifactReport }
  | { kind: "canceled" | "timeout"; stdout?: Captured; stderr?: Captured }
  /** The sandbox never ran the job (podman refused, a placement failed): `why` is its stderr. */
  | { kind: "not-started"; why: string };

export type RunningJob = {
  canceled: boolean;
  timedOut: boolean;
  /** It took a warm sandbox. */
  warm: boolean;
  /** A restricted job's egress record, once its sandbox exists. */
  egress?: EgressLog;
  /** Stops the job's sandbox at once; replaced once the sandbox exists. */
  kill(): Promise<void>;
  /** Settles when the job's run has ended. */
  done: Promise<unknown>;
};

export const newRunningJob = (): RunningJob => ({
  canceled: false,
  timedOut: false,
  warm: false,
  kill: async () => {},
  done: Promise.resolve(),
});

/** Runs `work` under the job's timer: at the deadline the job counts as timed out and its sandbox is killed. */
export async function underTimeout<T>(job: RunningJob, seconds: number, work: Promise<T>): Promise<T> {
  const timer = setTimeout(() => {
    job.timedOut = true;
    void job.kill();
  }, seconds * 1000);
  return work.finally(() => clearTimeout(timer));
}

/** How a job whose sandbox exited ended: canceled and timed out win over its exit status. */
export const endOf = (job: RunningJob, exited: Extract<RunEnd, { kind: "exited" }>): RunEnd =>
  job.canceled ? { ...exited, kind: "canceled" } : job.timedOut ? { ...exited, kind: "timeout" } : exited;

/** One job's run: the request, the image it runs in, its timeout and its running state. */
export type JobRun = { job: RunJobRequest; image: string; seconds: number; self: RunningJob };

/** The job's sandbox: a warm one when one fits, else one started for it; or how the job ended without one. */
export async function sandboxFor(
  ctx: RunnerContext,
  warm: WarmSandboxes | undefined,
  { job, image, seconds, self }: JobRun,
): Promise<Sandbox | RunEnd> {
  const taken = warm?.take(job, image);
  self.warm = !!taken;
  try {
    return taken ?? (await coldSandbox(ctx, job, image, seconds));
  } catch (err) {
    if (err instanceof SandboxRejection) throw err;
    if (self.canceled) return { kind: "canceled" };
    const why = err instanceof PlacementError ? err.message : `sandbox could not be started: ${(err as Error).message}`;
    return { kind: "not-started", why };
  }
}

export async function runLaunchedJob(ctx: RunnerContext, warm: WarmSandboxes | undefined, r: JobRun): Promise<RunEnd> {
  const { job, seconds, self } = r;
  const sandbox = await sandboxFor(ctx, warm, r);
  if ("kind" in sandbox) return sandbox;
  self.kill = sandbox.kill;
  self.egress = sandbox.egress;
  if (self.canceled) {
    await sandbox.dispose(); // never given its job: gone before the result says so
    return { kind: "canceled" };
  }
  try {
    await holdJobDeadline(ctx, { key: sandbox.name, container: sandbox.id, pod: sandbox.pod }, seconds);
    // podman cannot label a running container: a warm one takes its job's name, found by task or job id.
    const named = self.warm ? sandbox.rename(containerName(job, ctx.nodeSlug)) : Promise.resolve();
    const run = {
      command: job.sandbox.command ?? [],
      env: jobEnv(job, sandbox.env),
      timeoutSeconds: seconds,
      ...(await jobFilesOf(ctx, sandbox.ioDir, job)),
    };
    const outcome = await underTimeout(self, seconds, sandbox.run(run, ctx.maxOutputBytes));
    await named.catch((err: Error) =>
      ctx.log.warn("warm sandbox not renamed", { job_id: job.job_id, error: err.message }),
    );
    return endOf(self, { kind: "exited", ...outcome });
  } finally {
    ctx.track(sandbox.dispose());
  }
}

/** Job ids become path segments and container names, so only a conservative alphabet is accepted. */
export const SAFE_JOB_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export type RejectionKind = "invalid" | "duplicate" | "full" | "internal";

export class SandboxRejection extends Error {
  constructor(
    readonly kind: RejectionKind,
    message: string,
  ) {
    super(message);
  }
}

export type AdmissionPolicy = {
  defaultImage: string;
  /** Empty = any image. */
  allowedImages: string[];
  maxConcurrency: number;
};

const RESERVED_ENV = ["CYNODE_TASK_ID", "CYNODE_JOB_ID", "CYNODE_WORKSPACE_DIR", ARTIFACTS_DIR_ENV];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const WORKSPACE_DIR = "/workspace";

/** The image the job runs in, once the job is admitted. */
export function admit(job: RunJobRequest, policy: AdmissionPolicy, running: ReadonlySet<string>): string {
  jobEnv(job);
  if (job.sandbox.egress && job.sandbox.network_policy !== "restricted")
    throw new SandboxRejection("invalid", EGRESS_NEEDS_RESTRICTED);
  if (!SAFE_JOB_ID.test(job.job_id))
    throw new SandboxRejection("invalid", "job_id may contain only letters, digits, '.', '_' and '-' (max 128)");
  if (running.has(job.job_id)) throw new SandboxRejection("duplicate", `job ${job.job_id} is already running`);
  if (running.size >= policy.maxConcurrency) throw new SandboxRejection("full", "sandbox capacity reached");
  const image = job.sandbox.image || policy.defaultImage;
  if (policy.allowedImages.length > 0 && !policy.allowedImages.includes(image))
    throw new SandboxRejection("invalid", `image not allowed by node policy: ${image}`);
  return image;
}

/** Request env minus the reserved names, plus the reserved values; anything podman could misread is refused. */
export function jobEnv(job: RunJobRequest, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(job.sandbox.env ?? {})) {
    if (!ENV_NAME.test(k)) throw new SandboxRejection("invalid", `sandbox.env key is not a valid variable name: ${k}`);
    if (v.includes("\0")) throw new SandboxRejection("invalid", `sandbox.env value contains a NUL byte: ${k}`);
    if (!RESERVED_ENV.includes(k)) env[k] = v;
  }
  return {
    ...env,
    ...extra,
    CYNODE_TASK_ID: job.task_id,
    CYNODE_JOB_ID: job.job_id,
    CYNODE_WORKSPACE_DIR: WORKSPACE_DIR,
    [ARTIFACTS_DIR_ENV]: ARTIFACTS_DIR,
  };
}

export type Timeouts = { defaultSeconds: number; maxSeconds: number };

/** min(requested or node default, node max), further capped by the orchestrator's constraint. */
export function effectiveTimeoutSeconds(requested: number | undefined, timeouts: Timeouts, cap?: number): number {
  const t = Math.min(requested ?? timeouts.defaultSeconds, timeouts.maxSeconds);
  return cap && cap > 0 ? Math.min(t, cap) : t;
}
