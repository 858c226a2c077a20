/**
 * Which nodes can answer a chat now, and with which models: the live nodes (the one rule, `liveNodes` in db/nodes.ts,
 * so a suspect node never gets a chat) whose last capability report says inference runs.
 */
import type { Db } from "../db/connect";
import { runningJobCounts } from "../db/job-queue";
import { latestCapabilities, liveNodes } from "../db/nodes";

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

export async function liveInferenceNodes(
  db: Db,
  opts: { now: Date; maxReportAgeMs?: number },
): Promise<InferenceNode[]> {
  const nodes = await liveNodes(db, { now: opts.now, windowMs: opts.maxReportAgeMs });
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

/** Every model the nodes serve, with how many of them serve it. */
export function servedModels(nodes: Pick<InferenceNode, "models">[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const n of nodes) for (const id of new Set(n.models)) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/**
 * The model for work that names none: `preferred` (the configured default) when a node serves it, else the model
 * most nodes serve, ties by name; undefined when the nodes serve no model at all.
 */
export function resolveModel(nodes: Pick<InferenceNode, "models">[], preferred: string): string | undefined {
  const counts = servedModels(nodes);
  if (counts.has(preferred)) return preferred;
  return [...counts].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))[0]?.[0];
}
