/**
 * Running jobs whose lease expired belong to a holder that is gone (orchestrator crashed or stalled). On a live node
 * the job is re-attached (the node's `jobs:run` is idempotent, so it is not run again); on a lost node it goes back
 * to the queue for another node.
 */
import type { Logger } from "../../lib/log";
import type { Db } from "../db/connect";
import { expiredLeases, requeueLostJob } from "../db/job-queue";

export type ExpiredJob = { id: string; lease_id: string; task_id: string; node_id: string | null };

export async function reapExpiredLeases(
  db: Db,
  opts: {
    now: Date;
    log: Logger;
    /** Lease ids this process holds (renewed in the same pass; never reaped by their holder). */
    held: Set<string>;
    /** Ids of the live nodes. */
    live: Set<string>;
    /** Re-attaches to the job on its node; false when another process took it first. */
    reattach: (job: ExpiredJob) => Promise<boolean>;
  },
): Promise<{ reattached: number; requeued: number }> {
  const counts = { reattached: 0, requeued: 0 };
  for (const row of await expiredLeases(db, opts.now)) {
    if (!row.lease_id || opts.held.has(row.lease_id)) continue;
    const job = { ...row, lease_id: row.lease_id };
    const fields = { task_id: job.task_id, job_id: job.id, node_id: job.node_id };
    if (job.node_id && opts.live.has(job.node_id)) {
      if (!(await opts.reattach(job))) continue;
      counts.reattached++;
      opts.log.warn("job lease expired: re-attaching on its live node", fields);
      continue;
    }
    const outcome = await requeueLostJob(db, {
      jobId: job.id,
      leaseId: job.lease_id,
      nodeId: job.node_id,
      now: opts.now,
    });
    if (outcome === "not_held") continue;
    counts.requeued++;
    opts.log.warn("job lease expired on a lost node: requeued", fields);
  }
  return counts;
}
