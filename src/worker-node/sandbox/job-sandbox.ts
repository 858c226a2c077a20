/**
 * Starting the sandbox a job (or a warm slot) runs in: its directories, its placement (an inference pod), then the
 * sandbox itself. What the runner's parts share is a `RunnerContext`.
 */
import type { RunJobRequest } from "../../contracts/worker-api";
import type { Logger } from "../../lib/log";
import { SandboxRejection, WORKSPACE_DIR } from "./admission";
import type { ContainerLimits } from "./container-spec";
import { createJobDirs } from "./job-dirs";
import type { Podman } from "./podman";
import { startSandbox, type Placement, type Sandbox } from "./sandbox";

export type PlaceJob = ((job: RunJobRequest) => Promise<Placement>) & {
  /** Places a warm sandbox ahead of its job, under its own id and labels. */
  prepare?: (id: string, labels: Record<string, string>) => Promise<Placement>;
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
  /** Cleans up after a job off the result's path; the runner's shutdown waits for it. */
  track(cleanup: Promise<unknown>): void;
};

export const NODE_LABEL = "cynodeai.node";
/** How long after the job timeout podman's own deadline kills a container whose worker did not. */
export const SANDBOX_DEADLINE_GRACE_SECONDS = 2;

/** Per node too: nodes sharing one podman (tests, one host) may each run the same job after the other was lost. */
export const containerName = (jobId: string, nodeSlug: string) => `cynodeai-job-${nodeSlug}-${jobId}`;
export const jobLabels = (job: RunJobRequest, nodeSlug: string) => ({
  "cynodeai.task_id": job.task_id,
  "cynodeai.job_id": job.job_id,
  [NODE_LABEL]: nodeSlug,
});

/** A job's placement (e.g. its inference pod) could not be made: the job fails with this reason. */
export class PlacementError extends Error {}

/** The placement, or why it could not be made. */
export const placed = (p: Promise<Placement>) =>
  p.catch((err: Error) => new PlacementError(`sandbox placement failed: ${err.message}`));

export type SandboxRequest = {
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
  const placement = r.place && (await placed(r.place()));
  if (placement instanceof PlacementError) {
    await dirs.remove();
    throw placement;
  }
  return startSandbox(ctx.podman, {
    ...r,
    limits: ctx.limits,
    workdir: WORKSPACE_DIR,
    workspaceMb: ctx.workspaceMb,
    dirs,
    placement,
  });
}

/** A sandbox started for its job: the job's labels, and podman's deadline a little after the job's own. */
export function coldSandbox(ctx: RunnerContext, job: RunJobRequest, image: string, seconds: number) {
  const place = job.sandbox.use_inference ? ctx.placeInferenceJob : undefined;
  return startJobSandbox(ctx, {
    id: job.job_id,
    name: containerName(job.job_id, ctx.nodeSlug),
    image,
    labels: jobLabels(job, ctx.nodeSlug),
    place: place && (() => place(job)),
    // The sandbox owns its deadline (decision 14); a little later than ours, so a live worker reports `timeout`.
    deadlineSeconds: seconds + SANDBOX_DEADLINE_GRACE_SECONDS,
  });
}
