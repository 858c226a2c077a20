/** TEST SUPPORT: a pending task with one queued job, inserted straight into the database. */
import type { SandboxSpec } from "../contracts/worker-api";
import type { Db } from "../orchestrator/db/connect";

let sequence = 0;

/** Jobs are created one millisecond apart so their order is defined; `owner` is the creating user's id (default none). */
export async function insertTaskWithJob(
  db: Db,
  payload: SandboxSpec = { image: "alpine", command: ["true"] },
  owner?: string,
): Promise<{ taskId: string; jobId: string }> {
  const taskId = crypto.randomUUID();
  const jobId = crypto.randomUUID();
  const created = new Date(Date.UTC(2026, 2, 1, 9, 0, 0, sequence++));
  await db
    .insertInto("tasks")
    .values({
      id: taskId,
      created_by: owner ?? null,
      project_id: null,
      plan_id: null,
      status: "pending",
      prompt: "p",
      summary: null,
      description: null,
      acceptance_criteria: null,
      metadata: null,
      created_at: created,
      updated_at: created,
    })
    .execute();
  await db
    .insertInto("jobs")
    .values({
      id: jobId,
      task_id: taskId,
      ...(owner ? { owner_id: owner } : {}),
      node_id: null,
      status: "queued",
      payload,
      result: null,
      lease_id: null,
      lease_expires_at: null,
      started_at: null,
      ended_at: null,
      created_at: created,
      updated_at: created,
    })
    .execute();
  return { taskId, jobId };
}
