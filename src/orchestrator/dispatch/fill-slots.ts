/**
 * Nodes as the dispatcher sees them (which still report, how many jobs each may run, which to fill next), and the
 * filling of every live node's free slots with queued jobs, least-loaded node first. Jobs that need a model go to nodes
 * running inference; only when no node does, any node takes them and fails them with its clear "cannot run inference
 * jobs" error rather than leaving them queued forever.
 */
import type { Db } from "../db/connect";
import { claimJobForNode, type DispatchJob, runningJobCounts } from "../db/job-queue";
import type { DispatchMetrics } from "../metrics";
import type { NodeCapabilityReport } from "../../contracts/node-payloads";
import { latestCapabilities, liveNodes, suspectNodes } from "../db/nodes";
import type { Node } from "../db/schema";

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

export type Slot = {
  id: string;
  suspectSince: Date | null;
  slug: string;
  url: string;
  sealedToken: string;
  /** Jobs the node may run at once (`sandbox.max_concurrency`). */
  max: number;
  /** Whether it runs inference, so jobs that need a model may go there. */
  inference: boolean;
  /** Jobs running there now, over every orchestrator. */
  running: number;
};

/** Slots of a node whose capability report names no `sandbox.max_concurrency`, unless the dispatcher is told otherwise. */
export const DEFAULT_MAX_CONCURRENCY = 4;

/** Jobs a node may run at once: what it reports, else `defaultMax`; a node that cannot run sandboxes stays live
 * (re-attach, probes) but gets no slot. */
export const slotCapacity = (report: NodeCapabilityReport | undefined, defaultMax: number): number =>
  report?.sandbox?.supported === false ? 0 : (report?.sandbox?.max_concurrency ?? defaultMax);

export function toSlot(n: Node, report: NodeCapabilityReport | undefined, running: number, defaultMax: number): Slot {
  return {
    id: n.id,
    suspectSince: n.suspect_since,
    slug: n.node_slug,
    url: n.worker_api_target_url!,
    sealedToken: n.worker_api_bearer_token!,
    max: slotCapacity(report, defaultMax),
    inference: report?.inference?.running === true,
    running,
  };
}

/** Live nodes, then suspect ones (they are probed, never given work), with their capacity. */
export async function reportingSlots(db: Db, opts: { at: Date; staleMs: number; defaultMax: number }): Promise<Slot[]> {
  const w = { now: opts.at, windowMs: opts.staleMs };
  const nodes = [...(await liveNodes(db, w)), ...(await suspectNodes(db, w))];
  const reports = await latestCapabilities(
    db,
    nodes.map((n) => n.id),
  );
  const running = await runningJobCounts(db);
  return nodes.map((n) => toSlot(n, reports.get(n.id), running.get(n.id) ?? 0, opts.defaultMax));
}

/** The slot to fill next: the smallest share of its capacity in use, then the fewest jobs; ties keep the first. */
export function leastLoaded(open: Slot[]): Slot {
  return open.reduce((best, s) =>
    s.running / s.max < best.running / best.max ||
    (s.running / s.max === best.running / best.max && s.running < best.running)
      ? s
      : best,
  );
}
