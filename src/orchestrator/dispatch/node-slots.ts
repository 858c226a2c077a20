/** Nodes as the dispatcher sees them: which still report, how many jobs each may run, and which to fill next. */
import type { NodeCapabilityReport } from "../../contracts/node-payloads";
import type { Db } from "../db/connect";
import { runningJobCounts } from "../db/job-queue";
import { dispatchableNodes, latestCapabilities } from "../db/nodes";
import type { Node } from "../db/schema";

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

export function toSlot(n: Node, report: NodeCapabilityReport | undefined, running: number, defaultMax: number): Slot {
  return {
    id: n.id,
    suspectSince: n.suspect_since,
    slug: n.node_slug,
    url: n.worker_api_target_url!,
    sealedToken: n.worker_api_bearer_token!,
    // A node that cannot run sandboxes stays live (re-attach, probes) but gets no slot.
    max: report?.sandbox?.supported === false ? 0 : (report?.sandbox?.max_concurrency ?? defaultMax),
    inference: report?.inference?.running === true,
    running,
  };
}

/** Dispatchable nodes that still report (suspect ones too: they are probed), with their capacity. */
export async function reportingSlots(db: Db, opts: { at: Date; staleMs: number; defaultMax: number }): Promise<Slot[]> {
  const nodes = await dispatchableNodes(db, { reportedSince: new Date(opts.at.getTime() - opts.staleMs) });
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
