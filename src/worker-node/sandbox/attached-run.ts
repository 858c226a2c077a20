/**
 * A command that carries no script, in an image other than ours, may have no shell to run a launcher: its argv is
 * the container's command, through the podman service like every sandbox: created (every sandbox's hardening, the
 * job's labels, podman's own deadline), attached before it starts, its output read until it exits, then removed by
 * us after its exit code is read (never by itself: the wait could then find it gone).
 */
import {
  jobEnv,
  WORKSPACE_DIR,
  containerName,
  endOf,
  jobLabels,
  PlacementError,
  placed,
  podPlacement,
  holdJobDeadline,
  removedOrLeft,
  SANDBOX_DEADLINE_GRACE_SECONDS,
  underTimeout,
  type RunEnd,
  type RunnerContext,
  type JobRun,
} from "./job-sandbox";
import type { ContainerSpec } from "./container-spec";
import type { Libpod } from "./libpod";
import { captureText, type Captured } from "./truncate-utf8";

/** podman refused the container (no such image, a command it cannot execute): the job never started. */
class NotStarted extends Error {}

type AttachedRun = {
  /** stdout, stderr and the container's exit code (-1 when podman cannot tell, e.g. it was removed). */
  done: Promise<{ stdout: Captured; stderr: Captured; exitCode: number }>;
  /** Removes the container (killing it), also when podman has not created it yet. */
  remove(): Promise<void>;
  /** Remove, and no start after it. */
  kill(): Promise<void>;
};

async function ensureImage(api: Libpod, spec: ContainerSpec): Promise<void> {
  if (spec.pull === "missing" && !(await api.imageExists(spec.image))) await api.pull(spec.image);
}

function runAttached(api: Libpod, spec: ContainerSpec, maxOutputBytes: number): AttachedRun {
  let killed = false;
  const refused = (err: Error) => Promise.reject(new NotStarted(err.message));
  const created = ensureImage(api, spec)
    .then(() => api.create({ ...spec, autoRemove: false }))
    .catch(refused);
  const remove = () =>
    created.then(
      (id) => api.remove(id),
      () => {},
    );
  const done = created.then(async (id) => {
    if (killed) return { stdout: NOTHING, stderr: NOTHING, exitCode: -1 };
    // Attaching makes the runtime create its process (`runc create`): a command it cannot execute fails here.
    const out = await api.attach(id).catch(refused);
    // Unread after a refused start, its output ends with the container's removal.
    await api.start(id).catch(refused);
    const [stdout, stderr] = await Promise.all([
      captureText(out.stdout, maxOutputBytes),
      captureText(out.stderr, maxOutputBytes),
    ]);
    // Its output has ended, so it has exited (or is gone): the state is read at once, not polled every 2 s.
    return { stdout, stderr, exitCode: await api.wait(id, "50ms").catch(() => -1) };
  });
  return {
    done,
    remove,
    async kill() {
      killed = true;
      await remove();
    },
  };
}

const NOTHING: Captured = { text: "", truncated: false, marked: false, trailer: "" };

/** The job's argv as given, in its placement (an inference pod) if it has one. */
export async function runAttachedJob(ctx: RunnerContext, { job, image, seconds, self }: JobRun): Promise<RunEnd> {
  const place = podPlacement(ctx, job);
  const placement = place && (await placed(place(job)));
  if (placement instanceof PlacementError) return { kind: "not-started", why: placement.message };
  self.egress = placement?.egress;
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
  const run = runAttached(ctx.podman.api, spec, ctx.maxOutputBytes);
  self.kill = run.kill;
  if (self.canceled) await run.kill();
  const out = await underTimeout(self, seconds, run.done)
    .catch((err: Error) => {
      if (err instanceof NotStarted && !self.canceled && !self.timedOut) return err;
      if (err instanceof NotStarted) return { stdout: NOTHING, stderr: NOTHING, exitCode: -1 };
      throw err;
    })
    .finally(async () => {
      // Gone before the result says so; what podman could not remove now is the keeper's, at once.
      const held = { key: spec.name, container: spec.name, pod: spec.pod };
      await removedOrLeft(ctx, held, run.remove).catch((err: Error) =>
        ctx.log.warn("sandbox removal failed", { job_id: job.job_id, error: err.message }),
      );
      if (placement) ctx.track(placement.release());
    });
  if (out instanceof NotStarted) return { kind: "not-started", why: `sandbox could not be started: ${out.message}` };
  return endOf(self, { kind: "exited", ...out });
}
