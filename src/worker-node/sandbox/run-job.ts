/**
 * The sandbox runner: one hardened podman container per job, with a private workspace, capped output, a timeout
 * and cancel. A placement hook (e.g. a pod with an inference sidecar) can add mounts/env and a pod to join.
 */
import type { RunJobRequest, RunJobResponse } from "../../contracts/worker-api";
import { ProblemError } from "../../lib/http-problem";
import { rfc3339 } from "../../lib/rfc3339";
import type { Logger } from "../../lib/log";
import {
  containerArgs,
  listContainersArgs,
  removeContainersArgs,
  type ContainerLimits,
  type Mount,
  type Podman,
} from "./podman";
import { captureText } from "./truncate-utf8";
import { createJobDirs, removeStaleJobDirs, SAFE_JOB_ID } from "./workspace";

export type SandboxSettings = {
  nodeSlug: string;
  mountRoot: string;
  defaultImage: string;
  /** Empty = any image. */
  allowedImages: string[];
  limits: ContainerLimits;
  timeouts: { defaultSeconds: number; maxSeconds: number };
  maxOutputBytes: number;
  maxConcurrency: number;
};

/** Where a job runs besides its own container; the plain placement adds nothing. */
export type Placement = { pod?: string; mounts: Mount[]; env: Record<string, string>; release(): Promise<void> };
export type PlaceJob = (job: RunJobRequest) => Promise<Placement>;

export type RunnerDeps = {
  podman: Podman;
  settings: SandboxSettings;
  log: Logger;
  now?: () => Date;
  /** Orchestrator constraints from the node config, read per job. */
  maxJobTimeoutSeconds?: () => number | undefined;
  /** Placement for `use_inference` jobs (inference issue); without it they run plain, with no network. */
  placeInferenceJob?: PlaceJob;
};

export const NODE_LABEL = "cynodeai.node";
export const WORKSPACE_DIR = "/workspace";
const RESERVED_ENV = ["CYNODE_TASK_ID", "CYNODE_JOB_ID", "CYNODE_WORKSPACE_DIR"];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Per node too: nodes sharing one podman (tests, one host) may each run the same job after the other was lost. */
export const containerName = (jobId: string, nodeSlug: string) => `cynodeai-job-${nodeSlug}-${jobId}`;

/** min(requested or node default, node max), further capped by the orchestrator's constraint. */
export function effectiveTimeoutSeconds(
  requested: number | undefined,
  timeouts: SandboxSettings["timeouts"],
  cap?: number,
): number {
  const t = Math.min(requested ?? timeouts.defaultSeconds, timeouts.maxSeconds);
  return cap && cap > 0 ? Math.min(t, cap) : t;
}

/** Request env minus the reserved names, plus the reserved values; anything podman could misread is refused. */
export function jobEnv(job: RunJobRequest, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(job.sandbox.env ?? {})) {
    if (!ENV_NAME.test(k)) throw new ProblemError(400, `sandbox.env key is not a valid variable name: ${k}`);
    if (v.includes("\0")) throw new ProblemError(400, `sandbox.env value contains a NUL byte: ${k}`);
    if (!RESERVED_ENV.includes(k)) env[k] = v;
  }
  return {
    ...env,
    ...extra,
    CYNODE_TASK_ID: job.task_id,
    CYNODE_JOB_ID: job.job_id,
    CYNODE_WORKSPACE_DIR: WORKSPACE_DIR,
  };
}

type Active = {
  canceled: boolean;
  timedOut: boolean;
  /** The attached `podman run`, once spawned. */
  exited?: Promise<number>;
  kill(): Promise<void>;
  done: Promise<unknown>;
};

/** How long after the job timeout podman's own deadline kills a container whose worker did not. */
export const SANDBOX_DEADLINE_GRACE_SECONDS = 2;

/** `podman run` exits 125 when podman itself failed (bad image, bad flag): the job never started. */
const PODMAN_FAILED = 125;

export type SandboxRunner = ReturnType<typeof createSandboxRunner>;

export function createSandboxRunner({
  podman,
  settings,
  log,
  now = () => new Date(),
  maxJobTimeoutSeconds,
  placeInferenceJob,
}: RunnerDeps) {
  const active = new Map<string, Active>();
  const plain: PlaceJob = async () => ({ mounts: [], env: {}, release: async () => {} });

  function admit(job: RunJobRequest): string {
    if (!SAFE_JOB_ID.test(job.job_id))
      throw new ProblemError(400, "job_id may contain only letters, digits, '.', '_' and '-' (max 128)");
    if (active.has(job.job_id)) throw new ProblemError(409, `job ${job.job_id} is already running`);
    if (active.size >= settings.maxConcurrency) throw new ProblemError(503, "sandbox capacity reached");
    const image = job.sandbox.image || settings.defaultImage;
    if (settings.allowedImages.length > 0 && !settings.allowedImages.includes(image)) {
      throw new ProblemError(400, `image not allowed by node policy: ${image}`);
    }
    return image;
  }

  async function execute(job: RunJobRequest, image: string, self: Active): Promise<RunJobResponse> {
    const startedAt = rfc3339(now());
    const name = containerName(job.job_id, settings.nodeSlug);
    const result = (
      status: RunJobResponse["status"],
      exitCode: number,
      stdout = "",
      stderr = "",
      truncated = { stdout: false, stderr: false },
    ): RunJobResponse => ({
      version: 1,
      task_id: job.task_id,
      job_id: job.job_id,
      status,
      exit_code: exitCode,
      stdout,
      stderr,
      started_at: startedAt,
      ended_at: rfc3339(now()),
      truncated,
    });
    const dirs = await createJobDirs(settings.mountRoot, job.job_id).catch((err) => {
      log.error("workspace creation failed", { job_id: job.job_id, error: err });
      throw new ProblemError(500, "Workspace creation failed");
    });
    let placement: Placement | undefined;
    let cleanExit = false;
    try {
      placement = await (job.sandbox.use_inference && placeInferenceJob ? placeInferenceJob : plain)(job).catch(
        (err: Error) => {
          throw new Error(`sandbox placement failed: ${err.message}`);
        },
      );
      if (self.canceled) return result("canceled", -1);
      const seconds = effectiveTimeoutSeconds(job.sandbox.timeout_seconds, settings.timeouts, maxJobTimeoutSeconds?.());
      // One attached `podman run` (not create + start: that costs a second podman process per job).
      const proc = podman.spawn(
        containerArgs({
          name,
          image,
          command: job.sandbox.command,
          env: jobEnv(job, placement.env),
          labels: { "cynodeai.task_id": job.task_id, "cynodeai.job_id": job.job_id, [NODE_LABEL]: settings.nodeSlug },
          limits: settings.limits,
          pod: placement.pod,
          workdir: WORKSPACE_DIR,
          mounts: [{ source: dirs.workspace, target: WORKSPACE_DIR }, ...placement.mounts],
          pull: image.startsWith("localhost/") ? "never" : "missing",
          // The sandbox owns its deadline (decision 14); a little later than ours, so a live worker reports `timeout`.
          deadlineSeconds: seconds + SANDBOX_DEADLINE_GRACE_SECONDS,
        }),
      );
      self.exited = proc.exited;
      const timer = setTimeout(() => {
        self.timedOut = true;
        void self.kill();
      }, seconds * 1000);
      const [stdout, stderr, code] = await Promise.all([
        captureText(proc.stdout, settings.maxOutputBytes),
        captureText(proc.stderr, settings.maxOutputBytes),
        proc.exited,
      ]).finally(() => clearTimeout(timer));
      const truncated = { stdout: stdout.truncated, stderr: stderr.truncated };
      if (self.canceled) return result("canceled", -1, stdout.text, stderr.text, truncated);
      if (self.timedOut) return result("timeout", -1, stdout.text, stderr.text, truncated);
      // 125-127 may be podman's own failure, after which the container can still exist.
      cleanExit = code < PODMAN_FAILED;
      if (code === PODMAN_FAILED)
        return result("failed", -1, stdout.text, `sandbox could not be started: ${stderr.text.trim()}`, truncated);
      return result(code === 0 ? "completed" : "failed", code, stdout.text, stderr.text, truncated);
    } catch (err) {
      log.error("job execution failed", { job_id: job.job_id, error: err });
      return result("failed", -1, "", (err as Error).message);
    } finally {
      if (!cleanExit) await podman.exec(removeContainersArgs([name]));
      await placement?.release();
      await dirs.remove();
    }
  }

  return {
    get activeJobs(): number {
      return active.size;
    },

    async run(job: RunJobRequest): Promise<RunJobResponse> {
      jobEnv(job); // validates the request's env before anything is created
      const image = admit(job);
      const name = containerName(job.job_id, settings.nodeSlug);
      const self: Active = {
        canceled: false,
        timedOut: false,
        // The container may not exist yet when `podman run` was just spawned: remove until the run has ended.
        kill: async () => {
          for (let attempt = 0; attempt < 50; attempt++) {
            await podman.exec(removeContainersArgs([name]));
            if (!self.exited || (await Promise.race([self.exited.then(() => true), Bun.sleep(200).then(() => false)])))
              return;
          }
        },
        done: Promise.resolve(),
      };
      active.set(job.job_id, self);
      const done = execute(job, image, self).finally(() => active.delete(job.job_id));
      self.done = done.catch(() => {});
      const res = await done;
      log.info("job finished", {
        task_id: job.task_id,
        job_id: job.job_id,
        status: res.status,
        exit_code: res.exit_code,
      });
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

    /** Cancels every running job and waits for their results to settle (SIGTERM). */
    async stopAll(): Promise<void> {
      const jobs = [...active.values()];
      await Promise.all(
        jobs.map(async (j) => {
          j.canceled = true;
          await j.kill();
          await j.done;
        }),
      );
    },

    /** Removes containers and workspaces this node left behind (previous crash). */
    async removeLeftovers(): Promise<string[]> {
      const listed = await podman.exec(listContainersArgs({ [NODE_LABEL]: settings.nodeSlug }));
      if (listed.exitCode !== 0) throw new Error(`podman ps failed: ${listed.stderr.trim()}`);
      const names = listed.stdout.split("\n").filter(Boolean);
      if (names.length > 0) await podman.exec(removeContainersArgs(names));
      await removeStaleJobDirs(settings.mountRoot);
      return names;
    },
  };
}
