/**
 * The dispatcher's side of the jobs table: claim (FOR UPDATE SKIP LOCKED, per-node capacity under a node row lock),
 * lease renewal, completion, and release of jobs whose worker or lease was lost. Terminal rows are never rewritten.
 */
import { sql, type Transaction } from "kysely";
import { jobErrorResult } from "../../contracts/job-result";
import type { Db } from "./connect";
import type { Database, Job } from "./schema";
import { TERMINAL_DB_STATUSES } from "./tasks";

export type ClaimResult = { job: Job } | { none: "node_full" | "queue_empty" };

export type ClaimInput = {
  nodeId: string;
  maxConcurrency: number;
  /** false: only jobs that do not need a language model (`use_inference`) are claimed for this node. */
  inferenceJobs: boolean;
  leaseId: string;
  leaseExpiresAt: Date;
  now: Date;
};

/**
 * Claims the oldest queued job (of a task not yet closed) the node may run, if the node has a free slot.
 * The node row lock makes the capacity check hold across orchestrators; SKIP LOCKED lets them claim side by side.
 */
export async function claimJobForNode(db: Db, input: ClaimInput): Promise<ClaimResult> {
  return db.transaction().execute(async (tx) => {
    await tx.selectFrom("nodes").select("id").where("id", "=", input.nodeId).forUpdate().execute();
    const { running } = await tx
      .selectFrom("jobs")
      .select((eb) => eb.fn.countAll<string>().as("running"))
      .where("node_id", "=", input.nodeId)
      .where("status", "=", "running")
      .executeTakeFirstOrThrow();
    if (Number(running) >= input.maxConcurrency) return { none: "node_full" };
    const job = await tx
      .updateTable("jobs")
      .set({
        status: "running",
        node_id: input.nodeId,
        lease_id: input.leaseId,
        lease_expires_at: input.leaseExpiresAt,
        started_at: input.now,
        updated_at: input.now,
      })
      .where("id", "=", (eb) =>
        eb
          .selectFrom("jobs as q")
          .select("q.id")
          .where("q.status", "=", "queued")
          .where(({ exists, selectFrom }) =>
            exists(
              selectFrom("tasks")
                .select("tasks.id")
                .whereRef("tasks.id", "=", "q.task_id")
                .where("tasks.status", "not in", TERMINAL_DB_STATUSES),
            ),
          )
          .$if(!input.inferenceJobs, (q) =>
            q.where(sql<boolean>`coalesce((q.payload->>'use_inference')::boolean, false)`, "=", false),
          )
          .orderBy("q.created_at")
          .orderBy("q.id")
          .limit(1)
          .forUpdate()
          .skipLocked(),
      )
      .returningAll()
      .executeTakeFirst();
    if (!job) return { none: "queue_empty" };
    await tx
      .updateTable("tasks")
      .set({ status: "running", updated_at: input.now })
      .where("id", "=", job.task_id)
      .where("status", "=", "pending")
      .execute();
    return { job };
  });
}

/** Running jobs per node, over every orchestrator sharing the database. */
export async function runningJobCounts(db: Db): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom("jobs")
    .select(["node_id", (eb) => eb.fn.countAll<string>().as("n")])
    .where("status", "=", "running")
    .where("node_id", "is not", null)
    .groupBy("node_id")
    .execute();
  return new Map(rows.map((r) => [r.node_id!, Number(r.n)]));
}

/** Extends the leases this process still holds; a lease taken over by someone else is left alone. */
export async function renewLeases(db: Db, held: { jobId: string; leaseId: string }[], expiresAt: Date): Promise<void> {
  if (!held.length) return;
  await db
    .updateTable("jobs")
    .set({ lease_expires_at: expiresAt })
    .where("status", "=", "running")
    .where((eb) => eb.or(held.map((h) => eb.and([eb("id", "=", h.jobId), eb("lease_id", "=", h.leaseId)]))))
    .execute();
}

/** The task follows its jobs: failed as soon as one fails, completed once none is left to run. Never leaves a terminal status. */
async function settleTask(
  tx: Transaction<Database>,
  taskId: string,
  jobStatus: "completed" | "failed",
  now: Date,
): Promise<void> {
  let q = tx
    .updateTable("tasks")
    .set({ status: jobStatus, closed: true, updated_at: now })
    .where("id", "=", taskId)
    .where("status", "not in", TERMINAL_DB_STATUSES);
  if (jobStatus === "completed")
    q = q.where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom("jobs")
            .select("jobs.id")
            .where("jobs.task_id", "=", taskId)
            .where("jobs.status", "in", ["queued", "running"]),
        ),
      ),
    );
  await q.execute();
}

/**
 * Stores a job's outcome (JSON text) if the caller still holds its lease: false when the job was canceled,
 * reaped or finished meanwhile, so a late answer never overwrites a terminal status.
 */
export async function finishJob(
  db: Db,
  input: { jobId: string; leaseId: string; status: "completed" | "failed"; result: string; now: Date },
): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const done = await tx
      .updateTable("jobs")
      .set({
        status: input.status,
        result: input.result,
        ended_at: input.now,
        updated_at: input.now,
        lease_id: null,
        lease_expires_at: null,
      })
      .where("id", "=", input.jobId)
      .where("status", "=", "running")
      .where("lease_id", "=", input.leaseId)
      .returning("task_id")
      .executeTakeFirst();
    if (!done) return false;
    await settleTask(tx, done.task_id, input.status, input.now);
    return true;
  });
}

export type ReleaseOutcome = "requeued" | "failed" | "not_held";

/**
 * A job whose worker vanished or whose lease expired: requeued the first time, failed with `error` the second.
 * `leaseId` guards against releasing a job someone else has claimed since.
 */
export async function releaseLostJob(
  db: Db,
  input: { jobId: string; leaseId: string; error: string; now: Date },
): Promise<ReleaseOutcome> {
  return db.transaction().execute(async (tx) => {
    const job = await tx
      .selectFrom("jobs")
      .select(["task_id", "lease_expirations"])
      .where("id", "=", input.jobId)
      .where("status", "=", "running")
      .where("lease_id", "=", input.leaseId)
      .forUpdate()
      .executeTakeFirst();
    if (!job) return "not_held";
    const base = {
      lease_id: null,
      lease_expires_at: null,
      lease_expirations: job.lease_expirations + 1,
      updated_at: input.now,
    };
    if (job.lease_expirations === 0) {
      await tx
        .updateTable("jobs")
        .set({ ...base, status: "queued", node_id: null, started_at: null })
        .where("id", "=", input.jobId)
        .execute();
      return "requeued";
    }
    const error = `${input.error}; the job was already requeued once, giving up`;
    await tx
      .updateTable("jobs")
      .set({ ...base, status: "failed", result: jobErrorResult(error), ended_at: input.now })
      .where("id", "=", input.jobId)
      .execute();
    await settleTask(tx, job.task_id, "failed", input.now);
    return "failed";
  });
}

/** Running jobs whose lease ran out before `now` (holder crashed or stopped renewing). */
export function expiredLeases(
  db: Db,
  now: Date,
): Promise<{ id: string; lease_id: string | null; task_id: string; node_id: string | null }[]> {
  return db
    .selectFrom("jobs")
    .select(["id", "lease_id", "task_id", "node_id"])
    .where("status", "=", "running")
    .where("lease_expires_at", "<", now)
    .orderBy("lease_expires_at")
    .execute();
}
