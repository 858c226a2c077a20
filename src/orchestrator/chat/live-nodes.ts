/**
 * Which nodes can answer a chat now, and with which models. "Live" is one function, so the node-liveness rule can
 * change in one place: today a dispatchable node whose last capability report is recent and says inference runs.
 */
import type { Db } from "../db/connect";
import { runningJobCounts } from "../db/job-queue";
import { dispatchableNodes, latestCapabilities } from "../db/nodes";

export type InferenceNode = {
  id: string;
  slug: string;
  url: string;
  sealedToken: string;
  models: string[];
  /** Jobs running on the node now (the gateway adds its own chats in flight). */
  runningJobs: number;
  reportedAt: Date;
};

/** Three missed reports at the node's default 60 s interval. */
export const DEFAULT_MAX_REPORT_AGE_MS = 180_000;

export async function liveInferenceNodes(
  db: Db,
  opts: { now: Date; maxReportAgeMs?: number },
): Promise<InferenceNode[]> {
  const oldest = opts.now.getTime() - (opts.maxReportAgeMs ?? DEFAULT_MAX_REPORT_AGE_MS);
  const nodes = (await dispatchableNodes(db)).filter(
    (n) => n.last_capability_at && n.last_capability_at.getTime() >= oldest,
  );
  const [reports, running] = await Promise.all([
    latestCapabilities(
      db,
      nodes.map((n) => n.id),
    ),
    runningJobCounts(db),
  ]);
  return nodes.flatMap((n) => {
    const inference = reports.get(n.id)?.inference;
    if (inference?.running !== true) return [];
    return [
      {
        id: n.id,
        slug: n.node_slug,
        url: n.worker_api_target_url!,
        sealedToken: n.worker_api_bearer_token!,
        models: inference.available_models ?? [],
        runningJobs: running.get(n.id) ?? 0,
        reportedAt: n.last_capability_at!,
      },
    ];
  });
}
