/** A job's Worker API result from what its sandbox reported: status from how it ended, capped output, times. */
import type { RunJobRequest, RunJobResponse } from "../../contracts/worker-api";
import { rfc3339 } from "../../lib/rfc3339";
import type { Captured } from "./truncate-utf8";

/** How a run ended, as the runner saw it. */
export type RunEnd =
  | { kind: "exited"; exitCode: number; stdout: Captured; stderr: Captured }
  | { kind: "canceled" | "timeout"; stdout?: Captured; stderr?: Captured }
  /** The sandbox never ran the job (podman refused, a placement failed): `why` is its stderr. */
  | { kind: "not-started"; why: string };

/** `podman run` exits 125 when podman itself failed (bad image, bad flag): the job never started. */
export const PODMAN_FAILED = 125;

function fields(end: RunEnd): Pick<RunJobResponse, "status" | "exit_code" | "stdout" | "stderr" | "truncated"> {
  const truncated = { stdout: false, stderr: false };
  if (end.kind === "not-started") return { status: "failed", exit_code: -1, stdout: "", stderr: end.why, truncated };
  const out = { stdout: end.stdout?.text ?? "", stderr: end.stderr?.text ?? "" };
  truncated.stdout = end.stdout?.truncated ?? false;
  truncated.stderr = end.stderr?.truncated ?? false;
  if (end.kind !== "exited")
    return { status: end.kind === "canceled" ? "canceled" : "timeout", exit_code: -1, ...out, truncated };
  return { status: end.exitCode === 0 ? "completed" : "failed", exit_code: end.exitCode, ...out, truncated };
}

export function jobResult(job: RunJobRequest, startedAt: Date, endedAt: Date, end: RunEnd): RunJobResponse {
  const f = fields(end);
  return {
    version: 1,
    task_id: job.task_id,
    job_id: job.job_id,
    status: f.status,
    exit_code: f.exit_code,
    stdout: f.stdout,
    stderr: f.stderr,
    started_at: rfc3339(startedAt),
    ended_at: rfc3339(endedAt),
    truncated: f.truncated,
  };
}
