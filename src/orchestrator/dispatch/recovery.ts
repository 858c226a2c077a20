/**
 * The first phase of every pass: keep this process's leases, drop its calls to nodes that stopped reporting, take
 * over the jobs of holders that are gone (re-attach on a live node, else requeue), and fail lost jobs that no live
 * node took within the bound. Beside the passes, suspect nodes are probed: one that answers `/healthz` is live again.
 */
import type { Logger } from "../../lib/log";
import type { Db } from "../db/connect";
import {
  failUntakenJobs,
  reattachJob,
  renewLeases,
  type DispatchJob,
  expiredLeases,
  requeueLostJob,
} from "../db/job-queue";
import type { InFlight } from "./dispatch-loop";
import type { Slot } from "./fill-slots";
import { NODE_LOST } from "./run-on-node";
import { WORKER_API } from "../../contracts/routes";
import { clearNodeSuspect } from "../db/nodes";

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

/**
 * Running jobs whose lease expired belong to a holder that is gone (orchestrator crashed or stalled). On a live node
 * the job is re-attached (the node's `jobs:run` is idempotent, so it is not run again); on a lost node it goes back
 * to the queue for another node.
 */
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

/** Whether the node's Worker API answers `/healthz` within `timeoutMs`. */
export async function answers(url: string, timeoutMs: number, doFetch: typeof fetch): Promise<boolean> {
  try {
    const health = WORKER_API.healthz;
    const res = await doFetch(url.trim().replace(/\/+$/, "") + health.path(), {
      method: health.method,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

export type SuspectProbe = { probe(suspects: Slot[]): void; settled(): Promise<void> };

export function createSuspectProbe(opts: {
  db: Db;
  log: Logger;
  timeoutMs: number;
  fetch: typeof fetch;
  /** Told when a suspect node answered (it may take work again). */
  onAnswer: () => void;
}): SuspectProbe {
  let probing: Promise<void> | undefined;
  const probeOne = async (s: Slot) => {
    if (!(await answers(s.url, opts.timeoutMs, opts.fetch))) return;
    await clearNodeSuspect(opts.db, s.id, s.suspectSince!);
    opts.log.info("suspect node answers again", { node_id: s.id, node_slug: s.slug });
    opts.onAnswer();
  };
  return {
    probe(suspects) {
      if (probing || !suspects.length) return;
      probing = Promise.all(suspects.map(probeOne))
        .catch((err) => opts.log.warn("node probe failed", { error: err instanceof Error ? err.message : String(err) }))
        .then(() => void (probing = undefined));
    },
    settled: async () => {
      await probing;
    },
  };
}
