/**
 * Workflow leases and checkpoints (reference-agents 4): one lease row per task. Taking it is one atomic statement:
 * a new row, or one released or expired, becomes the caller's; a live one is the holder's until released. The same
 * holder echoing its lease id is told it already runs; anyone else, the same holder without the id too, conflicts.
 */
import { sql } from "kysely";
import type { Db } from "./connect";
import { isUuid } from "./tasks";

export const DEFAULT_LEASE_SECONDS = 3600;

export type LeaseOutcome = { status: "started" | "already_running"; leaseId: string } | { status: "conflict" };

export async function takeLease(
  db: Db,
  o: { taskId: string; holderId: string; key?: string | null; ttlSeconds?: number | null; now: Date },
): Promise<LeaseOutcome> {
  const leaseId = o.key && isUuid(o.key) ? o.key.toLowerCase() : crypto.randomUUID();
  const ttl = o.ttlSeconds && o.ttlSeconds > 0 ? o.ttlSeconds : DEFAULT_LEASE_SECONDS;
  const expires = new Date(o.now.getTime() + ttl * 1000);
  const taken = await db
    .insertInto("task_workflow_leases")
    .values({
      id: crypto.randomUUID(),
      task_id: o.taskId,
      lease_id: leaseId,
      holder_id: o.holderId,
      expires_at: expires,
    })
    .onConflict((oc) =>
      oc
        .column("task_id")
        .doUpdateSet({ lease_id: leaseId, holder_id: o.holderId, expires_at: expires, updated_at: o.now })
        .where((e) =>
          e.or([e("task_workflow_leases.holder_id", "is", null), e("task_workflow_leases.expires_at", "<", o.now)]),
        ),
    )
    .returning("lease_id")
    .executeTakeFirst();
  if (taken) return { status: "started", leaseId: taken.lease_id };
  const held = await db
    .selectFrom("task_workflow_leases")
    .selectAll()
    .where("task_id", "=", o.taskId)
    .executeTakeFirstOrThrow();
  return held.holder_id === o.holderId && held.lease_id === leaseId
    ? { status: "already_running", leaseId }
    : { status: "conflict" };
}

/** Ends the lease when the id matches (else nothing happens). */
export async function releaseLease(db: Db, taskId: string, leaseId: string): Promise<void> {
  if (!isUuid(leaseId)) return;
  await db
    .updateTable("task_workflow_leases")
    .set({ holder_id: null, expires_at: null, updated_at: sql`now()` })
    .where("task_id", "=", taskId)
    .where("lease_id", "=", leaseId.toLowerCase())
    .execute();
}

/** Upserts the task's checkpoint; `state` is kept in the form it came in (JSON text stays text). */
export async function saveCheckpoint(db: Db, taskId: string, state: unknown, lastNodeId: string): Promise<void> {
  const row = {
    state: sql`${state ?? null}::jsonb`,
    last_node_id: lastNodeId,
  };
  await db
    .insertInto("workflow_checkpoints")
    .values({ id: crypto.randomUUID(), task_id: taskId, ...row })
    .onConflict((oc) => oc.column("task_id").doUpdateSet({ ...row, updated_at: sql`now()` }))
    .execute();
}

export function checkpointOf(db: Db, taskId: string) {
  return db.selectFrom("workflow_checkpoints").selectAll().where("task_id", "=", taskId).executeTakeFirst();
}

/** Moves a held lease's expiry on (its holder is still at work); false when the lease is no longer this one. */
export async function renewLease(db: Db, taskId: string, leaseId: string, until: Date): Promise<boolean> {
  const row = await db
    .updateTable("task_workflow_leases")
    .set({ expires_at: until, updated_at: sql`now()` })
    .where("task_id", "=", taskId)
    .where("lease_id", "=", leaseId)
    .where("holder_id", "is not", null)
    .returning("id")
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Work whose holder is gone: checkpoints of this `kind` not marked done, whose lease was released or has expired
 * (its orchestrator died mid-step). Oldest first.
 */
export function orphanedCheckpoints(db: Db, kind: string, now: Date) {
  return db
    .selectFrom("workflow_checkpoints as c")
    .innerJoin("task_workflow_leases as l", "l.task_id", "c.task_id")
    .select(["c.task_id", "c.state"])
    .where(sql<boolean>`c.state->>'kind' = ${kind} and c.state->'done' is null`)
    .where((e) => e.or([e("l.holder_id", "is", null), e("l.expires_at", "<", now)]))
    .orderBy("c.updated_at")
    .execute();
}
