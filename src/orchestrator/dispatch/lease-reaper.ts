/** Finds running jobs whose lease expired (worker vanished, orchestrator died) and requeues them once, then fails them. */
import type { Logger } from "../../lib/log";
import type { Db } from "../db/connect";
import { expiredLeases, releaseLostJob } from "../db/job-queue";

export const LEASE_EXPIRED_ERROR =
  "job lease expired: the worker node or the orchestrator running it stopped answering";

export async function reapExpiredLeases(
  db: Db,
  opts: { now: Date; log: Logger },
): Promise<{ requeued: number; failed: number }> {
  const counts = { requeued: 0, failed: 0 };
  for (const job of await expiredLeases(db, opts.now)) {
    if (!job.lease_id) continue;
    const outcome = await releaseLostJob(db, {
      jobId: job.id,
      leaseId: job.lease_id,
      error: LEASE_EXPIRED_ERROR,
      now: opts.now,
    });
    if (outcome === "not_held") continue;
    counts[outcome]++;
    opts.log.warn("job lease expired", { task_id: job.task_id, job_id: job.id, node_id: job.node_id, outcome });
  }
  return counts;
}
