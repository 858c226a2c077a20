/** TEST SUPPORT: a Worker API answer for a job that ran to its end (exit 0 when completed, else 1), as a node sends it. */
import type { RunJobResponse } from "../contracts/worker-api";

export function completedRun(
  ids: { task_id: string; job_id: string },
  o: { stdout?: string; stderr?: string; at?: string; status?: RunJobResponse["status"] } = {},
): RunJobResponse {
  const at = o.at ?? "2026-01-01T00:00:00Z";
  const status = o.status ?? "completed";
  return {
    version: 1,
    task_id: ids.task_id,
    job_id: ids.job_id,
    status,
    exit_code: status === "completed" ? 0 : 1,
    stdout: o.stdout ?? "",
    stderr: o.stderr ?? "",
    started_at: at,
    ended_at: at,
    truncated: { stdout: false, stderr: false },
  };
}
