/** TEST SUPPORT: a Worker API answer for a job that completed with exit 0, as a node would send it. */
import type { RunJobResponse } from "../contracts/worker-api";

export function completedRun(
  ids: { task_id: string; job_id: string },
  o: { stdout?: string; stderr?: string; at?: string } = {},
): RunJobResponse {
  const at = o.at ?? "2026-01-01T00:00:00Z";
  return {
    version: 1,
    task_id: ids.task_id,
    job_id: ids.job_id,
    status: "completed",
    exit_code: 0,
    stdout: o.stdout ?? "",
    stderr: o.stderr ?? "",
    started_at: at,
    ended_at: at,
    truncated: { stdout: false, stderr: false },
  };
}
