/**
 * A job its sandbox's launcher runs (a script, or anything in our image): in a warm sandbox when one with its
 * isolation waits, else in one started for it. Its result is known at its end marks; the sandbox goes after.
 */
import type { RunJobRequest } from "../../contracts/worker-api";
import { jobEnv, SandboxRejection } from "./admission";
import { coldSandbox, PlacementError, type RunnerContext } from "./job-sandbox";
import type { RunEnd } from "./job-result";
import { endOf, underTimeout, type RunningJob } from "./running-job";
import type { Sandbox } from "./sandbox";
import type { WarmSandboxes } from "./warm-sandboxes";

async function sandboxFor(
  ctx: RunnerContext,
  warm: WarmSandboxes | undefined,
  job: RunJobRequest,
  image: string,
  seconds: number,
  self: RunningJob,
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

export async function runLaunchedJob(
  ctx: RunnerContext,
  warm: WarmSandboxes | undefined,
  job: RunJobRequest,
  image: string,
  seconds: number,
  self: RunningJob,
): Promise<RunEnd> {
  const sandbox = await sandboxFor(ctx, warm, job, image, seconds, self);
  if ("kind" in sandbox) return sandbox;
  self.kill = sandbox.kill;
  if (self.canceled) {
    await sandbox.dispose(); // never given its job: gone before the result says so
    return { kind: "canceled" };
  }
  try {
    const run = { command: job.sandbox.command, env: jobEnv(job, sandbox.env), timeoutSeconds: seconds };
    const outcome = await underTimeout(self, seconds, sandbox.run(run, ctx.maxOutputBytes));
    return endOf(self, { kind: "exited", ...outcome });
  } finally {
    ctx.track(sandbox.dispose());
  }
}
