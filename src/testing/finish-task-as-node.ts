/** TEST SUPPORT: ends a task's job the way a worker node's answer would, by storing a RunJobResponse for it. */
import type { Db } from "../orchestrator/db/connect";
import { completedRun } from "./completed-run";

export async function finishTaskAsNode(
  db: Db,
  taskId: string,
  out: { stdout: string; stderr?: string; status?: "completed" | "failed" },
): Promise<void> {
  const now = new Date();
  const status = out.status ?? "completed";
  const job = await db.selectFrom("jobs").select("id").where("task_id", "=", taskId).executeTakeFirstOrThrow();
  const result = completedRun({ task_id: taskId, job_id: job.id }, { ...out, status, at: now.toISOString() });
  await db
    .updateTable("jobs")
    .set({ status, result: JSON.stringify(result), started_at: now, ended_at: now, updated_at: now })
    .where("id", "=", job.id)
    .execute();
  await db.updateTable("tasks").set({ status, closed: true, updated_at: now }).where("id", "=", taskId).execute();
}
