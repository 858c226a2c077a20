/**
 * A command that carries no script, in an image other than ours, may have no shell to run a launcher: it runs as
 * its argv in one attached `podman run`, its env on podman's command line, its output read until podman exits.
 * Removed after its exit (not `run --rm`, which can deadlock with its own cleanup: podman#29646).
 */
import {
  jobEnv,
  WORKSPACE_DIR,
  containerName,
  endOf,
  jobLabels,
  PlacementError,
  placed,
  holdJobDeadline,
  SANDBOX_DEADLINE_GRACE_SECONDS,
  underTimeout,
  type RunEnd,
  type RunnerContext,
  type JobRun,
} from "./job-sandbox";
import type { ContainerSpec } from "./container-spec";
import { containerArgs, removeContainersArgs, type Podman } from "./podman";
import { captureText, type Captured } from "./truncate-utf8";

/** `podman run` exits 125 when podman itself failed (bad image, bad flag): the job never started. */
const PODMAN_FAILED = 125;

type AttachedRun = {
  /** stdout, stderr and podman's exit code (125: podman itself failed). */
  done: Promise<{ stdout: Captured; stderr: Captured; exitCode: number }>;
  /** Removes the container (killing it), also when podman has not created it yet. */
  kill(): Promise<void>;
};

function runAttached(podman: Podman, spec: ContainerSpec, maxOutputBytes: number): AttachedRun {
  const proc = podman.spawn(containerArgs({ ...spec, autoRemove: false }));
  const remove = () => podman.exec(removeContainersArgs([spec.name]));
  const done = Promise.all([
    captureText(proc.stdout, maxOutputBytes),
    captureText(proc.stderr, maxOutputBytes),
    proc.exited,
  ]).then(async ([stdout, stderr, exitCode]) => {
    await remove();
    return { stdout, stderr, exitCode };
  });
  return {
    done,
    async kill() {
      // `podman run` may not have created the container yet: remove until the run has ended.
      for (let attempt = 0; attempt < 50; attempt++) {
        await remove();
        if (await Promise.race([proc.exited.then(() => true), Bun.sleep(200).then(() => false)])) return;
      }
    },
  };
}

/** The job's argv as given, in its placement (an inference pod) if it has one. */
export async function runAttachedJob(ctx: RunnerContext, { job, image, seconds, self }: JobRun): Promise<RunEnd> {
  const place = job.sandbox.use_inference ? ctx.placeInferenceJob : undefined;
  const placement = place && (await placed(place(job)));
  if (placement instanceof PlacementError) return { kind: "not-started", why: placement.message };
  const spec: ContainerSpec = {
    name: containerName(job, ctx.nodeSlug),
    image,
    command: job.sandbox.command ?? [],
    env: jobEnv(job, placement?.env),
    labels: jobLabels(job, ctx.nodeSlug),
    limits: ctx.limits,
    workdir: WORKSPACE_DIR,
    workspace: { target: WORKSPACE_DIR, sizeMb: ctx.workspaceMb },
    mounts: placement?.mounts,
    pod: placement?.pod,
    pull: image.startsWith("localhost/") ? "never" : "missing",
    deadlineSeconds: seconds + SANDBOX_DEADLINE_GRACE_SECONDS,
  };
  await holdJobDeadline(ctx, { key: spec.name, container: spec.name, pod: spec.pod }, seconds);
  const run = runAttached(ctx.podman, spec, ctx.maxOutputBytes);
  self.kill = run.kill;
  if (self.canceled) await run.kill();
  const out = await underTimeout(self, seconds, run.done).finally(() => {
    if (placement) ctx.track(placement.release());
    ctx.track(ctx.deadlines.release(spec.name));
  });
  if (out.exitCode === PODMAN_FAILED && !self.canceled && !self.timedOut)
    return { kind: "not-started", why: `sandbox could not be started: ${out.stderr.text.trim()}` };
  return endOf(self, { kind: "exited", ...out });
}
