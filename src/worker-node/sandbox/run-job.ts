/**
 * The sandbox runner: one hardened single-use sandbox per job, taken warm when the job has exactly a warm sandbox's
 * isolation (warm-sandboxes.ts), else started for it (job-sandbox.ts); a command that carries no script in
 * another image runs attached (attached-run.ts). Capped output, a timeout and cancel. The result is known when the
 * job exits; what its sandbox leaves is cleaned up after, off the result's path.
 */
import type { RunJobRequest, RunJobResponse } from "../../contracts/worker-api";
import { rfc3339 } from "../../lib/rfc3339";
import type { Logger } from "../../lib/log";
import {
  admit,
  effectiveTimeoutSeconds,
  SandboxRejection,
  type Timeouts,
  NODE_LABEL,
  newRunningJob,
  DEADLINES_DIR,
  removeStaleJobDirs,
  runLaunchedJob,
  type JobRun,
  type PlaceJob,
  type RunEnd,
  type RunnerContext,
  type RunningJob,
} from "./job-sandbox";
import { runAttachedJob } from "./attached-run";
import type { ContainerLimits } from "./container-spec";
import { isShellScript } from "./launcher";
import type { Podman } from "./podman";
import { createWarmSandboxes, type WarmKind, type WarmSandboxes } from "./warm-sandboxes";
import { createDeadlineKeeper } from "./deadline-keeper";
import { join } from "node:path";
import { FILE_LIMITS } from "../../contracts/task-files";
import type { JobFiles } from "./job-files";
import { parseJobSpec } from "../../contracts/sba";
import { runAgentJob, type AgentDeps } from "../agent/agent-job";

export type SandboxSettings = {
  nodeSlug: string;
  mountRoot: string;
  defaultImage: string;
  /** Empty = any image. */
  allowedImages: string[];
  limits: ContainerLimits;
  timeouts: Timeouts;
  maxOutputBytes: number;
  maxConcurrency: number;
  /** Warm sandboxes kept for plain jobs (`sandbox.warm_pool`) and warm inference pods (`inference.warm_pods`). */
  warmPool?: number;
  warmPods?: number;
  /** A warm sandbox that waited this long is replaced (`sandbox.warm_max_idle_seconds`). */
  warmMaxIdleSeconds?: number;
  /** Size of each job's /workspace tmpfs (`sandbox.resources.max_disk_mb`). */
  maxDiskMb?: number;
  /** What a job's artifacts may total (`sandbox.max_artifacts_mb`); unset: 100 MiB. */
  maxArtifactBytes?: number;
};

export type RunnerDeps = {
  podman: Podman;
  settings: SandboxSettings;
  log: Logger;
  now?: () => Date;
  /** Orchestrator constraints from the node config, read per job. */
  maxJobTimeoutSeconds?: () => number | undefined;
  /** Placement for `use_inference` jobs; without it they run plain, with no network. */
  placeInferenceJob?: PlaceJob;
} & AgentDeps;

const DEFAULT_DISK_MB = 1024;
/** Attachments are placed by the launcher, which needs a shell (the default image, or an `sh -c` command). */
const NO_SHELL_FOR_FILES: RunEnd = {
  kind: "not-started",
  why: "attachments need a shell: run the job in the default image or as sh -c",
};
const DEFAULT_WARM_MAX_IDLE_SECONDS = 900;

/** A command run attached, unless it has attachments (the launcher places them). */
const attachedRun = (ctx: RunnerContext, run: JobRun) =>
  run.job.attachments?.length ? NO_SHELL_FOR_FILES : runAttachedJob(ctx, run);

export type SandboxRunner = ReturnType<typeof createSandboxRunner>;

function runnerContext(deps: RunnerDeps, cleanups: Set<Promise<unknown>>): RunnerContext {
  const { settings, log } = deps;
  return {
    ...settings,
    podman: deps.podman,
    log,
    workspaceMb: settings.maxDiskMb ?? DEFAULT_DISK_MB,
    warmMaxIdleSeconds: settings.warmMaxIdleSeconds ?? DEFAULT_WARM_MAX_IDLE_SECONDS,
    deadlines: createDeadlineKeeper({ dir: join(settings.mountRoot, DEADLINES_DIR), podman: deps.podman.command }),
    placeInferenceJob: deps.placeInferenceJob,
    artifactCapBytes: settings.maxArtifactBytes ?? FILE_LIMITS.maxArtifactBytes,
    track(cleanup) {
      const p = cleanup.catch((err: Error) => log.warn("sandbox removal failed", { error: err.message }));
      cleanups.add(p);
      void p.finally(() => cleanups.delete(p));
    },
  };
}

function fields(end: RunEnd): Pick<RunJobResponse, "status" | "exit_code" | "stdout" | "stderr" | "truncated"> {
  const truncated = { stdout: false, stderr: false };
  if (end.kind === "not-started") return { status: "failed", exit_code: -1, stdout: "", stderr: end.why, truncated };
  const out = { stdout: end.stdout?.text ?? "", stderr: end.stderr?.text ?? "" };
  truncated.stdout = end.stdout?.truncated ?? false;
  truncated.stderr = end.stderr?.truncated ?? false;
  if (end.kind !== "exited")
    return { status: end.kind === "canceled" ? "canceled" : "timeout", exit_code: -1, ...out, truncated };
  return { status: end.exitCode === 0 ? "completed" : "failed", exit_code: end.exitCode, ...out, truncated };
}

function jobResult(job: RunJobRequest, startedAt: Date, endedAt: Date, end: RunEnd, self?: RunningJob): RunJobResponse {
  const f = fields(end);
  const egress = self?.egress?.attempts();
  const files = end.kind === "exited" ? end.artifacts : undefined;
  return {
    version: 1,
    task_id: job.task_id,
    job_id: job.job_id,
    status: f.status,
    exit_code: f.exit_code,
    stdout: f.stdout,
    stderr: f.stderr,
    started_at: rfc3339(startedAt),
    ended_at: rfc3339(endedAt),
    truncated: f.truncated,
    ...(egress ? { egress } : {}),
    ...(files ? { artifacts: files.artifacts, artifacts_omitted: files.omitted } : {}),
  };
}

/** What the "job finished" log line says. */
const finishedFields = (job: RunJobRequest, res: RunJobResponse, self: RunningJob) => ({
  task_id: res.task_id,
  job_id: res.job_id,
  status: res.status,
  exit_code: res.exit_code,
  warm: self.warm,
  inference: !!job.sandbox.use_inference,
  agent: job.sandbox.job_spec_json !== undefined,
});

type AgentRunner = { deps: RunnerDeps; ctx: RunnerContext; warm: WarmSandboxes | undefined; log: Logger };

/** An agent job: its spec re-validated, then the loop in a launched sandbox, under the spec's runtime too. */
async function runAgent(a: AgentRunner, r: JobRun, startedAt: Date, now: () => Date): Promise<RunJobResponse> {
  const { deps, ctx, warm, log } = a;
  const { job } = r;
  const parsed = parseJobSpec(job.sandbox.job_spec_json ?? "");
  const failed = (why: string) => jobResult(job, startedAt, now(), { kind: "not-started", why });
  if (!parsed.ok) return failed(`invalid SBA job_spec_json: ${parsed.error}`);
  const limits = [job.sandbox.timeout_seconds, parsed.spec.constraints?.max_runtime_seconds];
  const requested = Math.min(...limits.filter((s): s is number => s !== undefined));
  const seconds = effectiveTimeoutSeconds(requested, deps.settings.timeouts, deps.maxJobTimeoutSeconds?.());
  try {
    const fields = await runAgentJob(ctx, warm, { ...r, seconds }, parsed.spec, deps);
    return { ...jobResult(job, startedAt, now(), { kind: "not-started", why: "" }, r.self), ...fields };
  } catch (err) {
    if (err instanceof SandboxRejection) throw err;
    log.error("agent job failed", { job_id: job.job_id, error: err });
    return failed((err as Error).message);
  }
}

export function createSandboxRunner(deps: RunnerDeps) {
  const { podman, settings, log } = deps;
  const now = deps.now ?? (() => new Date());
  const active = new Map<string, RunningJob>();
  const cleanups = new Set<Promise<unknown>>();
  const ctx = runnerContext(deps, cleanups);
  const warm = createWarmSandboxes(ctx, { plain: settings.warmPool ?? 0, inference: settings.warmPods ?? 0 });

  async function execute(job: RunJobRequest, image: string, self: RunningJob): Promise<RunJobResponse> {
    const startedAt = now();
    const seconds = effectiveTimeoutSeconds(
      job.sandbox.timeout_seconds,
      settings.timeouts,
      deps.maxJobTimeoutSeconds?.(),
    );
    if (job.sandbox.job_spec_json !== undefined)
      return runAgent({ deps, ctx, warm, log }, { job, image, self, seconds: 0 }, startedAt, now);
    const launched = image === settings.defaultImage || isShellScript(job.sandbox.command ?? []);
    try {
      const run = { job, image, seconds, self };
      const end = launched ? await runLaunchedJob(ctx, warm, run) : await attachedRun(ctx, run);
      return jobResult(job, startedAt, now(), end, self);
    } catch (err) {
      if (err instanceof SandboxRejection) throw err;
      log.error("job execution failed", { job_id: job.job_id, error: err });
      return jobResult(job, startedAt, now(), { kind: "not-started", why: (err as Error).message }, self);
    }
  }

  const settled = async () => {
    while (cleanups.size > 0) await Promise.allSettled([...cleanups]);
  };

  return {
    get activeJobs(): number {
      return active.size;
    },
    /** Sandboxes (and inference pods) started ahead, waiting for a job. */
    get warmSandboxes(): number {
      return warm ? warm.size("plain") + warm.size("inference") : 0;
    },
    async run(job: RunJobRequest): Promise<RunJobResponse> {
      const image = admit(job, settings, new Set(active.keys()));
      const self = newRunningJob();
      active.set(job.job_id, self);
      const done = execute(job, image, self).finally(() => active.delete(job.job_id));
      self.done = done.catch(() => {});
      const res = await done;
      log.info("job finished", finishedFields(job, res, self));
      return res;
    },
    /** Stops a running job at once; false when no such job runs here. */
    async cancel(jobId: string): Promise<boolean> {
      const job = active.get(jobId);
      if (!job) return false;
      job.canceled = true;
      await job.kill();
      return true;
    },
    /** From registration on, jobs' attachments and artifacts go through the control-plane. */
    useJobFiles: (files: JobFiles) => void (ctx.jobFiles = files),
    /** From registration on, agent jobs' step lines go to the control-plane as they happen. */
    useStepReports(reports: { onStep: AgentDeps["onStep"]; end: AgentDeps["onStepsEnd"] }): void {
      deps.onStep = reports.onStep;
      deps.onStepsEnd = reports.end;
    },
    /** Starts keeping warm sandboxes (after leftovers are removed). */
    warmUp: () => warm?.start(),
    /** Warm sandboxes waiting, per kind. */
    warm: (kind: WarmKind) => warm?.size(kind) ?? 0,
    /** Cancels every running job, waits for their results to settle and removes the warm sandboxes (SIGTERM). */
    async stopAll(): Promise<void> {
      await warm?.stop();
      const stopping = [...active.values()].map(async (j) => {
        j.canceled = true;
        await j.kill();
        await j.done;
      });
      await Promise.all(stopping);
      await settled();
    },
    /** Resolves once what finished jobs left (sandboxes, pods, directories) is cleaned up. */
    settled,
    /** Removes containers and job directories this node left behind (previous crash). */
    async removeLeftovers(): Promise<string[]> {
      const names = await podman.api.list({ [NODE_LABEL]: settings.nodeSlug }).catch((err: Error) => {
        throw new Error(`listing containers failed: ${err.message}`);
      });
      // One gone since the listing (it removed itself, another node's clean-up) is no error.
      await Promise.all(names.map((n) => podman.api.remove(n)));
      await removeStaleJobDirs(settings.mountRoot);
      return names;
    },
  };
}
