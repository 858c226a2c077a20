/**
 * The first phase of every pass: keep this process's leases, drop its calls to nodes that stopped reporting, take
 * over the jobs of holders that are gone (re-attach on a live node, else requeue), and fail lost jobs that no live
 * node took within the bound.
 */
import type { Logger } from "../../lib/log";
import type { Db } from "../db/connect";
import { failUntakenJobs, reattachJob, renewLeases, type DispatchJob } from "../db/job-queue";
import type { InFlight } from "./in-flight";
import { reapExpiredLeases, type ExpiredJob } from "./lease-reaper";
import type { Slot } from "./node-slots";
import { NODE_LOST } from "./run-on-node";

export type RecoveryContext = {
  db: Db;
  log: Logger;
  /** Lease length; this process renews its leases every quarter of it. */
  leaseMs: number;
  /** A job that lost its node fails when no live node took it within this long. */
  lostJobBoundMs: number;
  newLeaseId: () => string;
  inFlight: InFlight;
  launch: (job: DispatchJob, node: Slot, leaseId: string) => void;
};

export type Recover = (at: Date, reporting: Slot[], live: Map<string, Slot>) => Promise<void>;

export function createRecovery(ctx: RecoveryContext): Recover {
  const { db, log, inFlight } = ctx;
  let lastRenewal = 0;

  async function renew(at: Date): Promise<void> {
    if (!inFlight.size || at.getTime() - lastRenewal < ctx.leaseMs / 4) return;
    await renewLeases(db, inFlight.leases(), new Date(at.getTime() + ctx.leaseMs));
    lastRenewal = at.getTime();
  }

  /** Takes over a job whose holder is gone on its (live) node; false when another process took it first. */
  const reattach = (at: Date, live: Map<string, Slot>) => async (expired: ExpiredJob) => {
    const leaseId = ctx.newLeaseId();
    const job = await reattachJob(db, {
      jobId: expired.id,
      oldLeaseId: expired.lease_id,
      leaseId,
      leaseExpiresAt: new Date(at.getTime() + ctx.leaseMs),
      now: at,
    });
    if (job) ctx.launch(job, live.get(expired.node_id!)!, leaseId);
    return job !== undefined;
  };

  return async (at, reporting, live) => {
    await renew(at);
    inFlight.abortOutside(new Set(reporting.map((s) => s.id)), NODE_LOST);
    const held = inFlight.leaseIds();
    await reapExpiredLeases(db, { now: at, log, held, live: new Set(live.keys()), reattach: reattach(at, live) });
    const bound = ctx.lostJobBoundMs;
    for (const jobId of await failUntakenJobs(db, { now: at, boundMs: bound }))
      log.warn("lost job failed: no live node took it", { job_id: jobId, bound_ms: bound });
  };
}
