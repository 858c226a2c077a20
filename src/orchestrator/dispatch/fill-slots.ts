/**
 * Fills every live node's free slots with queued jobs, least-loaded node first. Jobs that need a model go to nodes
 * running inference; only when no node does, any node takes them and fails them with its clear "cannot run inference
 * jobs" error rather than leaving them queued forever.
 */
import type { Db } from "../db/connect";
import { claimJobForNode, type DispatchJob } from "../db/job-queue";
import type { DispatchMetrics } from "../metrics";
import { leastLoaded, type Slot } from "./node-slots";

export type FillContext = {
  db: Db;
  now: () => Date;
  leaseMs: number;
  newLeaseId: () => string;
  metrics?: DispatchMetrics;
  /** Starts the claimed job's Worker API call. */
  launch: (job: DispatchJob, node: Slot, leaseId: string) => void;
};

/** Resolves to the number of jobs started; `slots` are updated with what they took. */
export async function fillSlots(ctx: FillContext, slots: Slot[]): Promise<number> {
  const anyInference = slots.some((s) => s.inference);
  let open = slots.filter((s) => s.running < s.max);
  let started = 0;
  while (open.length) {
    const node = leastLoaded(open);
    const leaseId = ctx.newLeaseId();
    const inferenceJobs = node.inference || !anyInference;
    // Each claim's own time: a pass over many nodes takes a while, and started_at should say when.
    const claimedAt = ctx.now();
    const claim = await claimJobForNode(ctx.db, {
      nodeId: node.id,
      maxConcurrency: node.max,
      inferenceJobs,
      leaseId,
      leaseExpiresAt: new Date(claimedAt.getTime() + ctx.leaseMs),
      now: claimedAt,
    });
    if ("none" in claim) {
      // Nothing left for a node that may take any job means nothing left at all (jobs excluded from this node
      // after a loss there are reported as `excluded`, so other nodes still get their turn).
      if (claim.none === "queue_empty" && inferenceJobs) break;
      open = open.filter((s) => s !== node);
      continue;
    }
    ctx.metrics?.jobClaimed(claim.job.created_at, claimedAt);
    ctx.launch(claim.job, node, leaseId);
    started++;
    node.running++;
    if (node.running >= node.max) open = open.filter((s) => s !== node);
  }
  return started;
}
