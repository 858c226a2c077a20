/**
 * The sandbox runner: one hardened single-use sandbox per job (sandbox.ts), taken warm from the pool when the job
 * has exactly a warm sandbox's isolation, else started cold; capped output, a timeout and cancel. The result is
 * known when the job exits; what the sandbox leaves is cleaned up after, off the result's path.
 */
import type { RunJobRequest, RunJobResponse } from "../../contracts/worker-api";
import type { Logger } from "../../lib/log";
import { admit, effectiveTimeoutSeconds, jobEnv, SandboxRejection, WORKSPACE_DIR, type Timeouts } from "./admission";
import { runAttached } from "./attached-run";
import type { ContainerLimits } from "./container-spec";
import { createJobDirs, removeStaleJobDirs } from "./job-dirs";
import { jobResult, PODMAN_FAILED, type RunEnd } from "./job-result";
import { isShellScript } from "./launcher";
import { listContainersArgs, removeContainersArgs, type Podman } from "./podman";
import { startSandbox, type JobToRun, type Placement, type Sandbox } from "./sandbox";
import { createWarmPool } from "./warm-pool";

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
  /** Size of each job's /workspace tmpfs (`sandbox.resources.max_disk_mb`). */
  maxDiskMb?: number;
};

/** `prepare` places a warm sandbox ahead of its job, under its own id and labels. */
export type PlaceJob = ((job: RunJobRequest) => Promise<Placement>) & {
  prepare?: (id: string, labels: Record<string, string>) => Promise<Placement>;
};
type WarmKind = "plain" | "inference";

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
export const WARM_LABEL = "cynodeai.warm";
const DEFAULT_DISK_MB = 1024;
/** How long after the job timeout podman's own deadline kills a container whose worker did not. */
export const SANDBOX_DEADLINE_GRACE_SECONDS = 2;

/** Per node too: nodes sharing one podman (tests, one host) may each run the same job after the other was lost. */
export const containerName = (jobId: string, nodeSlug: string) => `cynodeai-job-${nodeSlug}-${jobId}`;

type Active = {
  canceled: boolean;
  timedOut: boolean;
  warm: boolean;
  /** Stops the job's sandbox at once; replaced once the sandbox exists. */
  kill(): Promise<void>;
  done: Promise<unknown>;
};

export type SandboxRunner = ReturnType<typeof createSandboxRunner>;

export function createSandboxRunner(deps: RunnerDeps) {
  const { podman, settings, log, placeInferenceJob } = deps;
  const now = deps.now ?? (() => new Date());
  const active = new Map<string, Active>();
  /** Sandboxes being disposed of after their job: shutdown waits for them. */
  const disposals = new Set<Promise<unknown>>();
  const prepareInference = placeInferenceJob?.prepare;
  const workspaceMb = settings.maxDiskMb ?? DEFAULT_DISK_MB;
  const nodeLabel = { [NODE_LABEL]: settings.nodeSlug };

  async function start(o: { id: string; name: string; image: string; labels: Record<string, string> } & Extra) {
    const dirs = await createJobDirs(settings.mountRoot, o.id).catch((err) => {
      log.error("job directory creation failed", { id: o.id, error: err });
      throw new SandboxRejection("internal", "Workspace creation failed");
    });
    const placement = o.place && (await placed(o.place()));
    if (placement instanceof PlacementError) {
      await dirs.remove();
      throw placement;
    }
    const plan = { ...o, limits: settings.limits, workdir: WORKSPACE_DIR, workspaceMb, dirs, placement };
    return startSandbox(podman, plan);
  }

  const pool =
    settings.warmPool || (settings.warmPods && prepareInference)
      ? createWarmPool<WarmKind, Sandbox & { died: Promise<unknown> }>({
          sizes: { plain: settings.warmPool ?? 0, inference: prepareInference ? (settings.warmPods ?? 0) : 0 },
          log,
          start: async (kind) => {
            const id = `warm-${crypto.randomUUID()}`;
            const labels = { ...nodeLabel, [WARM_LABEL]: "1" };
            const place = kind === "inference" ? () => prepareInference!(id, labels) : undefined;
            const s = await start({ id, name: `cynodeai-${id}`, image: settings.defaultImage, labels, place });
            return { ...s, died: s.exited };
          },
        })
      : undefined;

  /** Only a job with exactly a warm sandbox's isolation (default image, no network, same limits) takes one. */
  function warmKind(job: RunJobRequest, image: string): WarmKind | undefined {
    if (image !== settings.defaultImage || (job.sandbox.network_policy ?? "none") !== "none") return undefined;
    return job.sandbox.use_inference && placeInferenceJob ? (prepareInference ? "inference" : undefined) : "plain";
  }

  function coldStart(job: RunJobRequest, image: string, seconds: number): Promise<Sandbox> {
    const inference = job.sandbox.use_inference && placeInferenceJob;
    return start({
      id: job.job_id,
      name: containerName(job.job_id, settings.nodeSlug),
      image,
      labels: { "cynodeai.task_id": job.task_id, "cynodeai.job_id": job.job_id, ...nodeLabel },
      place: inference ? () => placeInferenceJob(job) : undefined,
      // The sandbox owns its deadline (decision 14); a little later than ours, so a live worker reports `timeout`.
      deadlineSeconds: seconds + SANDBOX_DEADLINE_GRACE_SECONDS,
    });
  }

  /** Cleans up after a job off the result's path; shutdown and `settled` wait for it. */
  function track(cleanup: Promise<unknown>): void {
    const p = cleanup.catch((err: Error) => log.warn("sandbox removal failed", { error: err.message }));
    disposals.add(p);
    void p.finally(() => disposals.delete(p));
  }
  const dispose = (sandbox: Sandbox) => track(sandbox.dispose());

  /** Runs `work` under the job's timer: at the deadline the job counts as timed out and its sandbox is killed. */
  async function timed<T>(self: Active, seconds: number, work: Promise<T>): Promise<T> {
    const timer = setTimeout(() => {
      self.timedOut = true;
      void self.kill();
    }, seconds * 1000);
    return work.finally(() => clearTimeout(timer));
  }

  const ended = (self: Active, end: Extract<RunEnd, { kind: "exited" }>): RunEnd =>
    self.canceled ? { ...end, kind: "canceled" } : self.timedOut ? { ...end, kind: "timeout" } : end;

  /** A job whose command the sandbox's launcher runs (a script, or anything in our image). */
  async function runLaunched(job: RunJobRequest, image: string, self: Active, seconds: number): Promise<RunEnd> {
    const kind = warmKind(job, image);
    const warm = kind && pool?.take(kind);
    self.warm = !!warm;
    let sandbox: Sandbox;
    try {
      sandbox = warm || (await coldStart(job, image, seconds));
    } catch (err) {
      if (err instanceof SandboxRejection) throw err;
      if (self.canceled) return { kind: "canceled" };
      const placement = err instanceof PlacementError;
      return {
        kind: "not-started",
        why: placement ? err.message : `sandbox could not be started: ${(err as Error).message}`,
      };
    }
    self.kill = sandbox.kill;
    if (self.canceled) {
      await sandbox.dispose(); // never given its job: gone before the result says so
      return { kind: "canceled" };
    }
    try {
      const launched: JobToRun = {
        command: job.sandbox.command,
        env: jobEnv(job, sandbox.env),
        timeoutSeconds: seconds,
      };
      const outcome = await timed(self, seconds, sandbox.run(launched, settings.maxOutputBytes));
      return ended(self, { kind: "exited", ...outcome });
    } finally {
      dispose(sandbox);
    }
  }

  /** Argv as given in an image that may have no shell (attached-run.ts), in its placement if it has one. */
  async function runDirect(job: RunJobRequest, image: string, self: Active, seconds: number): Promise<RunEnd> {
    const placement = job.sandbox.use_inference && placeInferenceJob ? await placed(placeInferenceJob(job)) : undefined;
    if (placement instanceof PlacementError) return { kind: "not-started", why: placement.message };
    const run = runAttached(
      podman,
      {
        name: containerName(job.job_id, settings.nodeSlug),
        image,
        command: job.sandbox.command,
        env: jobEnv(job, placement?.env),
        labels: { "cynodeai.task_id": job.task_id, "cynodeai.job_id": job.job_id, ...nodeLabel },
        limits: settings.limits,
        workdir: WORKSPACE_DIR,
        workspace: { target: WORKSPACE_DIR, sizeMb: workspaceMb },
        mounts: placement?.mounts,
        pod: placement?.pod,
        pull: image.startsWith("localhost/") ? "never" : "missing",
        deadlineSeconds: seconds + SANDBOX_DEADLINE_GRACE_SECONDS,
      },
      settings.maxOutputBytes,
    );
    self.kill = run.kill;
    if (self.canceled) await run.kill();
    const out = await timed(self, seconds, run.done).finally(() => placement && track(placement.release()));
    if (out.exitCode === PODMAN_FAILED && !self.canceled && !self.timedOut)
      return { kind: "not-started", why: `sandbox could not be started: ${out.stderr.text.trim()}` };
    return ended(self, { kind: "exited", ...out });
  }

  async function execute(job: RunJobRequest, image: string, self: Active): Promise<RunJobResponse> {
    const startedAt = now();
    const seconds = effectiveTimeoutSeconds(
      job.sandbox.timeout_seconds,
      settings.timeouts,
      deps.maxJobTimeoutSeconds?.(),
    );
    const launched = image === settings.defaultImage || isShellScript(job.sandbox.command);
    try {
      const end = await (launched ? runLaunched : runDirect)(job, image, self, seconds);
      return jobResult(job, startedAt, now(), end);
    } catch (err) {
      if (err instanceof SandboxRejection) throw err;
      log.error("job execution failed", { job_id: job.job_id, error: err });
      return jobResult(job, startedAt, now(), { kind: "not-started", why: (err as Error).message });
    }
  }

  return {
    get activeJobs(): number {
      return active.size;
    },

    /** Sandboxes (and inference pods) started ahead, waiting for a job. */
    get warmSandboxes(): number {
      return pool ? pool.size("plain") + pool.size("inference") : 0;
    },

    async run(job: RunJobRequest): Promise<RunJobResponse> {
      const image = admit(job, settings, new Set(active.keys()));
      const self: Active = {
        canceled: false,
        timedOut: false,
        warm: false,
        kill: async () => {},
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
        warm: self.warm,
        inference: job.sandbox.use_inference === true,
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

    /** Starts keeping warm sandboxes (after leftovers are removed). */
    warmUp(): void {
      pool?.start();
    },

    /** Warm sandboxes waiting, per kind. */
    warm(kind: WarmKind): number {
      return pool?.size(kind) ?? 0;
    },

    /** Cancels every running job, waits for their results to settle and removes the warm sandboxes (SIGTERM). */
    async stopAll(): Promise<void> {
      await pool?.stop();
      await Promise.all(
        [...active.values()].map(async (j) => {
          j.canceled = true;
          await j.kill();
          await j.done;
        }),
      );
      await this.settled();
    },

    /** Resolves once what finished jobs left (sandboxes, pods, directories) is cleaned up. */
    async settled(): Promise<void> {
      while (disposals.size > 0) await Promise.allSettled([...disposals]);
    },

    /** Removes containers and job directories this node left behind (previous crash). */
    async removeLeftovers(): Promise<string[]> {
      const listed = await podman.exec(listContainersArgs(nodeLabel));
      if (listed.exitCode !== 0) throw new Error(`podman ps failed: ${listed.stderr.trim()}`);
      const names = listed.stdout.split("\n").filter(Boolean);
      if (names.length > 0) await podman.exec(removeContainersArgs(names));
      await removeStaleJobDirs(settings.mountRoot);
      return names;
    },
  };
}

type Extra = { place?: () => Promise<Placement>; deadlineSeconds?: number };

/** A job's placement (e.g. its inference pod) could not be made: the job fails with this reason. */
class PlacementError extends Error {}
const placed = (p: Promise<Placement>) =>
  p.catch((err: Error) => new PlacementError(`sandbox placement failed: ${err.message}`));
