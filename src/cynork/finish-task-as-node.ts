/** Test support: ends a task's job the way a worker node's answer would, by storing a RunJobResponse for it. */
import type { RunJobResponse } from "../contracts/worker-api";
import type { Db } from "../orchestrator/db/connect";

export async function finishTaskAsNode(
  db: Db,
  taskId: string,
  out: { stdout: string; stderr?: string; status?: "completed" | "failed" },
): Promise<void> {
  const now = new Date();
  const status = out.status ?? "completed";
  const job = await db.selectFrom("jobs").select("id").where("task_id", "=", taskId).executeTakeFirstOrThrow();
  const result: RunJobResponse = {
    version: 1,
    task_id: taskId,
    job_id: job.id,
    status,
    exit_code: status === "completed" ? 0 : 1,
    stdout: out.stdout,
    stderr: out.stderr ?? "",
    started_at: now.toISOString(),
    ended_at: now.toISOString(),
    truncated: { stdout: false, stderr: false },
  };
  await db
    .updateTable("jobs")
    .set({ status, result: JSON.stringify(result), started_at: now, ended_at: now, updated_at: now })
    .where("id", "=", job.id)
    .execute();
  await db.updateTable("tasks").set({ status, closed: true, updated_at: now }).where("id", "=", taskId).execute();
}
