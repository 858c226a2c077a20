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
  type PodmanProcess,
} from "./podman";
import { isShellScript, jobLauncher, LAUNCHER_COMMAND } from "./launcher";
import { captureText } from "./truncate-utf8";
import { startWarmSandbox, type WarmSandbox } from "./warm-sandbox";
import { createWarmPool } from "./warm-pool";
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
  /** Warm sandboxes kept for plain jobs (`sandbox.warm_pool`) and warm inference pods (`inference.warm_pods`). */
  warmPool?: number;
  warmPods?: number;
  /** Size of each job's /workspace tmpfs (`sandbox.resources.max_disk_mb`); unset: a plain directory (tests). */
  maxDiskMb?: number;
};

/** Where a job runs besides its own container; the plain placement adds nothing. */
export type Placement = { pod?: string; mounts: Mount[]; env: Record<string, string>; release(): Promise<void> };
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

/** Writes the launcher and closes stdin; a sandbox that died first (its pipe closed) is reported by its exit. */
export function deliver(proc: PodmanProcess, launcher: string): void {
  // A failed write (the sandbox is gone) needs no handling: its exit code and stderr say why.
  const ignore = (r: unknown) => void Promise.resolve(r).catch(() => {});
  try {
    ignore(proc.stdin?.write(launcher));
    ignore(proc.stdin?.end());
  } catch {}
}

type Active = {
  /** The job's container: its own, or the warm sandbox it took. */
  name: string;
  warm?: boolean;
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
  const removals = new Set<Promise<unknown>>();
  const prepareInference = placeInferenceJob?.prepare;
  const pool =
    settings.warmPool || (settings.warmPods && prepareInference)
      ? createWarmPool<WarmKind, WarmSandbox>({
          sizes: { plain: settings.warmPool ?? 0, inference: prepareInference ? (settings.warmPods ?? 0) : 0 },
          log,
          start: (kind) =>
            startWarmSandbox({
              podman,
              nodeLabel: { [NODE_LABEL]: settings.nodeSlug },
              image: settings.defaultImage,
              mountRoot: settings.mountRoot,
              maxDiskMb: settings.maxDiskMb,
              limits: settings.limits,
              workdir: WORKSPACE_DIR,
              place: kind === "inference" ? prepareInference : undefined,
            }),
        })
      : undefined;

  /** Only a job with exactly a warm sandbox's isolation (default image, no network, same limits) takes one. */
  function warmKind(job: RunJobRequest, image: string): WarmKind | undefined {
    if (image !== settings.defaultImage || (job.sandbox.network_policy ?? "none") !== "none") return undefined;
    return job.sandbox.use_inference && placeInferenceJob ? (prepareInference ? "inference" : undefined) : "plain";
  }

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

  type Result = (
    status: RunJobResponse["status"],
    exitCode: number,
    stdout?: string,
    stderr?: string,
    truncated?: RunJobResponse["truncated"],
  ) => RunJobResponse;

  /** Waits for the sandbox's exit (killing it at the deadline) and turns its output into the job's result. */
  async function collect(
    proc: { stdout: ReadableStream<Uint8Array>; exited: Promise<number> },
    stderrStream: ReadableStream<Uint8Array>,
    seconds: number,
    self: Active,
    result: Result,
  ): Promise<{ res: RunJobResponse }> {
    const timer = setTimeout(() => {
      self.timedOut = true;
      void self.kill();
    }, seconds * 1000);
    const [stdout, stderr, code] = await Promise.all([
      captureText(proc.stdout, settings.maxOutputBytes),
      captureText(stderrStream, settings.maxOutputBytes),
      proc.exited,
    ]).finally(() => clearTimeout(timer));
    const truncated = { stdout: stdout.truncated, stderr: stderr.truncated };
    if (self.canceled) return { res: result("canceled", -1, stdout.text, stderr.text, truncated) };
    if (self.timedOut) return { res: result("timeout", -1, stdout.text, stderr.text, truncated) };
    if (code === PODMAN_FAILED) {
      const why = `sandbox could not be started: ${stderr.text.trim()}`;
      return { res: result("failed", -1, stdout.text, why, truncated) };
    }
    return { res: result(code === 0 ? "completed" : "failed", code, stdout.text, stderr.text, truncated) };
  }

  /** A job in a warm sandbox: its launcher goes to the waiting shell; the sandbox is removed after, off the result's path. */
  async function runWarm(job: RunJobRequest, warm: WarmSandbox, self: Active, result: Result) {
    self.name = warm.name;
    self.warm = true;
    self.exited = warm.proc.exited;
    try {
      if (self.canceled) return result("canceled", -1);
      const seconds = effectiveTimeoutSeconds(job.sandbox.timeout_seconds, settings.timeouts, maxJobTimeoutSeconds?.());
      deliver(
        warm.proc,
        jobLauncher({ command: job.sandbox.command, env: jobEnv(job, warm.env), timeoutSeconds: seconds }),
      );
      return (await collect(warm.proc, warm.stderr, seconds, self, result)).res;
    } finally {
      const removal = warm
        .dispose()
        .catch((err: Error) => log.warn("warm sandbox removal failed", { error: err.message }));
      removals.add(removal);
      void removal.finally(() => removals.delete(removal));
    }
  }

  async function execute(job: RunJobRequest, image: string, self: Active): Promise<RunJobResponse> {
    const startedAt = rfc3339(now());
    const name = containerName(job.job_id, settings.nodeSlug);
    const result: Result = (
      status,
      exitCode,
      stdout = "",
      stderr = "",
      truncated = { stdout: false, stderr: false },
    ) => ({
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
    const kind = warmKind(job, image);
    const warm = kind && pool?.take(kind);
    if (warm) return runWarm(job, warm, self, result);
    const dirs = await createJobDirs(settings.mountRoot, job.job_id, settings.maxDiskMb).catch((err) => {
      log.error("workspace creation failed", { job_id: job.job_id, error: err });
      throw new ProblemError(500, "Workspace creation failed");
    });
    let placement: Placement | undefined;
    try {
      placement = await (job.sandbox.use_inference && placeInferenceJob ? placeInferenceJob : plain)(job).catch(
        (err: Error) => {
          throw new Error(`sandbox placement failed: ${err.message}`);
        },
      );
      if (self.canceled) return result("canceled", -1);
      const seconds = effectiveTimeoutSeconds(job.sandbox.timeout_seconds, settings.timeouts, maxJobTimeoutSeconds?.());
      const env = jobEnv(job, placement.env);
      // One attached `podman run` (not create + start: that costs a second podman process per job). Where the image
      // has a shell, command and env arrive on stdin in the launcher, so a script of any size runs; an image without
      // one (its command carries no script) gets its argv as given.
      const launched = image === settings.defaultImage || isShellScript(job.sandbox.command);
      const proc = podman.spawn(
        containerArgs({
          name,
          image,
          command: launched ? LAUNCHER_COMMAND : job.sandbox.command,
          env: launched ? {} : env,
          interactive: launched,
          // Removed by us after its exit: `run --rm` can deadlock with its own cleanup (podman#29646) on a busy host.
          autoRemove: false,
          labels: { "cynodeai.task_id": job.task_id, "cynodeai.job_id": job.job_id, [NODE_LABEL]: settings.nodeSlug },
          limits: settings.limits,
          pod: placement.pod,
          workdir: WORKSPACE_DIR,
          mounts: [{ source: dirs.workspace, target: WORKSPACE_DIR, owned: true }, ...placement.mounts],
          pull: image.startsWith("localhost/") ? "never" : "missing",
          // The sandbox owns its deadline (decision 14); a little later than ours, so a live worker reports `timeout`.
          deadlineSeconds: seconds + SANDBOX_DEADLINE_GRACE_SECONDS,
        }),
        launched ? { stdin: "pipe" } : {},
      );
      self.exited = proc.exited;
      if (launched) deliver(proc, jobLauncher({ command: job.sandbox.command, env, timeoutSeconds: seconds }));
      return (await collect(proc, proc.stderr, seconds, self, result)).res;
    } catch (err) {
      log.error("job execution failed", { job_id: job.job_id, error: err });
      return result("failed", -1, "", (err as Error).message);
    } finally {
      await podman.exec(removeContainersArgs([name]));
      await placement?.release();
      await dirs.remove();
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
      jobEnv(job); // validates the request's env before anything is created
      const image = admit(job);
      const self: Active = {
        name: containerName(job.job_id, settings.nodeSlug),
        canceled: false,
        timedOut: false,
        // The container may not exist yet when `podman run` was just spawned: remove until the run has ended.
        kill: async () => {
          for (let attempt = 0; attempt < 50; attempt++) {
            await podman.exec(removeContainersArgs([self.name]));
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
        warm: self.warm === true,
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
      const jobs = [...active.values()];
      await Promise.all(
        jobs.map(async (j) => {
          j.canceled = true;
          await j.kill();
          await j.done;
        }),
      );
      while (removals.size > 0) await Promise.allSettled([...removals]);
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
