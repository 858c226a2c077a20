/**
 * The runner's warm sandboxes (decision 19): plain ones for jobs in the default image with no network, and warm
 * inference pods; each kind kept full by a warm pool, each sandbox taken by exactly one job.
 */
import type { RunJobRequest } from "../../contracts/worker-api";
import { NODE_LABEL, startJobSandbox, type RunnerContext } from "./job-sandbox";
import type { Sandbox } from "./sandbox";
import { createWarmPool } from "./warm-pool";

export const WARM_LABEL = "cynodeai.warm";
export type WarmKind = "plain" | "inference";
export type WarmSandboxes = {
  /** A warm sandbox with exactly this job's isolation, if one waits. */
  take(job: RunJobRequest, image: string): Sandbox | undefined;
  size(kind: WarmKind): number;
  start(): void;
  stop(): Promise<void>;
};

export function createWarmSandboxes(ctx: RunnerContext, sizes: Record<WarmKind, number>): WarmSandboxes | undefined {
  const prepare = ctx.placeInferenceJob?.prepare;
  const wanted = { plain: sizes.plain, inference: prepare ? sizes.inference : 0 };
  if (!wanted.plain && !wanted.inference) return undefined;
  const pool = createWarmPool<WarmKind, Sandbox & { died: Promise<unknown> }>({
    sizes: wanted,
    log: ctx.log,
    start: async (kind) => {
      const id = `warm-${crypto.randomUUID()}`;
      const labels = { [NODE_LABEL]: ctx.nodeSlug, [WARM_LABEL]: "1" };
      const place = kind === "inference" && prepare ? () => prepare(id, labels) : undefined;
      const s = await startJobSandbox(ctx, { id, name: `cynodeai-${id}`, image: ctx.defaultImage, labels, place });
      return { ...s, died: s.exited };
    },
  });

  /** Only a job with exactly a warm sandbox's isolation (default image, no network, same limits) takes one. */
  function kindOf(job: RunJobRequest, image: string): WarmKind | undefined {
    if (image !== ctx.defaultImage || (job.sandbox.network_policy ?? "none") !== "none") return undefined;
    if (!job.sandbox.use_inference || !ctx.placeInferenceJob) return "plain";
    return prepare ? "inference" : undefined;
  }

  return {
    take(job, image) {
      const kind = kindOf(job, image);
      return kind && pool.take(kind);
    },
    size: (kind) => pool.size(kind),
    start: () => pool.start(),
    stop: () => pool.stop(),
  };
}
