/**
 * The dispatcher's side of the jobs table: claim (users in turn, FOR UPDATE SKIP LOCKED, per-node capacity under a
 * node row lock), lease renewal, completion, re-attachment after a lost holder, requeue of jobs whose node was lost, and failure of
 * those no live node took in time. Terminal rows are never rewritten.
 */
import { sql, type Transaction } from "kysely";
import * as v from "valibot";
import { jobErrorResult } from "../../contracts/job-result";
import { SandboxSpec } from "../../contracts/worker-api";
import type { Db } from "./connect";
import { ACTIVE_JOB_STATUSES, type Database, type Job } from "./schema";
import { TERMINAL_DB_STATUSES } from "./tasks";

/**
 * A job as the dispatcher runs it. Its payload is validated here, where it is read: a row written before a schema
 * change (or by hand) yields the reason instead, and the dispatcher fails the job with it.
 */
export type DispatchJob = Pick<Job, "id" | "task_id" | "created_at"> & {
  payload: { spec: SandboxSpec } | { error: string };
};

/** `excluded`: nothing for this node, but queued jobs it may not take (lost there before) wait for others. */
export type ClaimResult = { job: DispatchJob } | { none: "node_full" | "queue_empty" | "excluded" };

/** The stored payload (a JSON value, or JSON text as the reference stores it) as the sandbox spec it must be. */
export function readJobPayload(stored: unknown): DispatchJob["payload"] {
  try {
    const parsed = v.safeParse(SandboxSpec, typeof stored === "string" ? JSON.parse(stored) : stored);
    if (parsed.success) return { spec: parsed.output };
    return { error: `invalid job payload: ${parsed.issues[0].message}` };
  } catch (err) {
    return { error: `invalid job payload: ${err instanceof Error ? err.message : String(err)}` };
  }
}

const dispatchJob = (row: Job): DispatchJob => ({
  id: row.id,
  task_id: row.task_id,
  created_at: row.created_at,
  payload: readJobPayload(row.payload),
});

export type ClaimInput = {
  nodeId: string;
  maxConcurrency: number;
  /**
   * false: only jobs that need neither a language model (`use_inference`, agent jobs) nor the sidecar of a pod
   * (`network_policy: "restricted"`, whose proxy it serves) are claimed for this node.
   */
  inferenceJobs: boolean;
  leaseId: string;
  leaseExpiresAt: Date;
  now: Date;
};

/** How many owners, best turn first, a claim tries before it falls back to the oldest claimable job of anyone. */
const OWNERS_TRIED = 8;

/** The one definition of a job the node may take now, on `jobs as q`: queued, due, allowed there, its task open. */
function claimable(input: ClaimInput) {
  // An agent job (`job_spec_json`) asks the model from the node, so it needs an inference node too.
  const plainOnly = input.inferenceJobs
    ? sql``
    : sql`and coalesce((q.payload->>'use_inference')::boolean, false) = false and q.payload->>'job_spec_json' is null
        and coalesce(q.payload->>'network_policy', 'none') <> 'restricted'`;
  return sql<boolean>`(q.status = 'queued'
    and (q.not_before is null or q.not_before <= ${input.now})
    and not (${input.nodeId}::uuid = any(q.excluded_node_ids))
    and exists (select 1 from tasks t where t.id = q.task_id and t.status not in (${sql.join(TERMINAL_DB_STATUSES)}))
    ${plainOnly})`;
}

/**
 * Owners with a job the node may take, whose turn it is first: the fewest jobs running (over every node and
 * orchestrator), then the longest since their last claim (never first), then the oldest waiting job. Owners are
 * found by a skip scan of `jobs_status_owner_created_idx` (one probe per owner), so a long backlog costs nothing here.
 */
async function ownersByTurn(tx: Transaction<Database>, input: ClaimInput): Promise<string[]> {
  const ok = claimable(input);
  const { rows } = await sql<{ owner_id: string }>`
    with recursive owners(owner_id) as (
      (select q.owner_id from jobs q where ${ok} order by q.owner_id limit 1)
      union all
      select (select q.owner_id from jobs q where ${ok} and q.owner_id > o.owner_id order by q.owner_id limit 1)
      from owners o where o.owner_id is not null
    )
    select o.owner_id from owners o left join dispatch_turns d on d.owner_id = o.owner_id
    where o.owner_id is not null
    order by (select count(*) from jobs r where r.status = 'running' and r.owner_id = o.owner_id),
      d.turn nulls first,
      (select q.created_at from jobs q where ${ok} and q.owner_id = o.owner_id order by q.created_at limit 1),
      o.owner_id
    limit ${OWNERS_TRIED}`.execute(tx);
  return rows.map((r) => r.owner_id);
}

/** Takes the oldest claimable job (of `owner`, when given) that no other claim holds, for the node. */
function takeOldest(tx: Transaction<Database>, input: ClaimInput, owner?: string) {
  return tx
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
        .where(claimable(input))
        .$if(owner !== undefined, (q) => q.where("q.owner_id", "=", owner!))
        .orderBy("q.created_at")
        .orderBy("q.id")
        .limit(1)
        .forUpdate()
        .skipLocked(),
    )
    .returningAll()
    .executeTakeFirst();
}

/** The owner whose turn it is gets the slot; when every such owner's job is held by a concurrent claim, the oldest. */
async function takeByTurn(tx: Transaction<Database>, input: ClaimInput): Promise<Job | undefined> {
  for (const owner of await ownersByTurn(tx, input)) {
    const job = await takeOldest(tx, input, owner);
    if (job) return job;
  }
  return takeOldest(tx, input);
}

/**
 * Claims a queued job (of a task not yet closed) the node may run, if the node has a free slot: the oldest job of
 * the owner whose turn it is, so one user's backlog never delays another user's next job by more than a turn.
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
    const job = await takeByTurn(tx, input);
    if (!job) {
      const excluded = await tx
        .selectFrom("jobs")
        .select("id")
        .where("status", "=", "queued")
        .where(sql<boolean>`${input.nodeId}::uuid = any(excluded_node_ids)`)
        .limit(1)
        .executeTakeFirst();
      return { none: excluded ? "excluded" : "queue_empty" };
    }
    await tx
      .insertInto("dispatch_turns")
      .values({ owner_id: job.owner_id, turn: sql`nextval('dispatch_turn_seq')` })
      .onConflict((oc) => oc.column("owner_id").doUpdateSet({ turn: sql`excluded.turn` }))
      .execute();
    await tx
      .updateTable("tasks")
      .set({ status: "running", updated_at: input.now })
      .where("id", "=", job.task_id)
      .where("status", "=", "pending")
      .execute();
    return { job: dispatchJob(job) };
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
            .where("jobs.status", "in", ACTIVE_JOB_STATUSES),
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

export type RequeueOutcome = "requeued" | "not_held";

/** Backoff before a lost job is offered again: doubles with each loss, capped. */
export const lostJobBackoffMs = (losses: number) => Math.min(500 * 2 ** losses, 5_000);

/**
 * A job whose node was lost (connection failed, reports stopped): back to the queue, never again to `nodeId`, after a
 * backoff. Not a failure: `failUntakenJobs` fails it only if no live node takes it in time.
 * `leaseId` guards against releasing a job someone else has claimed since.
 */
export async function requeueLostJob(
  db: Db,
  input: { jobId: string; leaseId: string; nodeId: string | null; now: Date },
): Promise<RequeueOutcome> {
  return db.transaction().execute(async (tx) => {
    const job = await tx
      .selectFrom("jobs")
      .select(["lease_expirations"])
      .where("id", "=", input.jobId)
      .where("status", "=", "running")
      .where("lease_id", "=", input.leaseId)
      .forUpdate()
      .executeTakeFirst();
    if (!job) return "not_held";
    await tx
      .updateTable("jobs")
      .set((eb) => ({
        status: "queued",
        node_id: null,
        started_at: null,
        lease_id: null,
        lease_expires_at: null,
        lease_expirations: job.lease_expirations + 1,
        excluded_node_ids: input.nodeId
          ? sql<string[]>`array_append(excluded_node_ids, ${input.nodeId}::uuid)`
          : eb.ref("excluded_node_ids"),
        not_before: new Date(input.now.getTime() + lostJobBackoffMs(job.lease_expirations)),
        // The next run reports its own steps.
        progress: sql`'[]'::jsonb`,
        lost_at: eb.fn.coalesce("lost_at", eb.val(input.now)),
        updated_at: input.now,
      }))
      .where("id", "=", input.jobId)
      .execute();
    return "requeued";
  });
}

/** The reason a lost job fails with when no live node took it within `boundMs`. */
export const untakenJobError = (boundMs: number) =>
  `no live node took the job within ${Math.round(boundMs / 1000)}s after its node was lost (connection failed or capability reports stopped)`;

/** Fails queued jobs that lost their node more than `boundMs` ago and found no live node since; returns their ids. */
export async function failUntakenJobs(db: Db, input: { now: Date; boundMs: number }): Promise<string[]> {
  const cutoff = new Date(input.now.getTime() - input.boundMs);
  return db.transaction().execute(async (tx) => {
    const failed = await tx
      .updateTable("jobs")
      .set({
        status: "failed",
        result: jobErrorResult(untakenJobError(input.boundMs)),
        ended_at: input.now,
        updated_at: input.now,
      })
      .where("status", "=", "queued")
      .where("lost_at", "<", cutoff)
      .returning(["id", "task_id"])
      .execute();
    for (const job of failed) await settleTask(tx, job.task_id, "failed", input.now);
    return failed.map((j) => j.id);
  });
}

/** Takes over a running job whose holder is gone, keeping its node: the caller attaches to the run there. */
export async function reattachJob(
  db: Db,
  input: { jobId: string; oldLeaseId: string; leaseId: string; leaseExpiresAt: Date; now: Date },
): Promise<DispatchJob | undefined> {
  const row = await db
    .updateTable("jobs")
    .set({ lease_id: input.leaseId, lease_expires_at: input.leaseExpiresAt, updated_at: input.now })
    .where("id", "=", input.jobId)
    .where("status", "=", "running")
    .where("lease_id", "=", input.oldLeaseId)
    .returningAll()
    .executeTakeFirst();
  return row && dispatchJob(row);
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
