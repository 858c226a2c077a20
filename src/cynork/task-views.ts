/**
 * How tasks, results and logs print. `jobs[].result` is the JSON text of the worker's RunJobResponse (or of a
 * dispatch-error object); it is parsed a second time here to get stdout/stderr, as the reference's clients do.
 */
import {
  TERMINAL_TASK_STATUSES,
  type TaskJob,
  type TaskLogsResponse,
  type TaskResultResponse,
  type TaskStatus,
} from "../contracts/user-api";
import { jobOutput, type JobOutput } from "../contracts/job-result";
import type { TableSpec } from "./render";

export function jobsOutput(jobs: readonly TaskJob[]): JobOutput {
  const outs = jobs.map((j) => jobOutput(j.result));
  return { stdout: outs.map((o) => o.stdout).join(""), stderr: outs.map((o) => o.stderr).join("") };
}

export const isTerminal = (status: TaskStatus) => TERMINAL_TASK_STATUSES.includes(status);

export const TASK_LINE: TableSpec = { keys: ["task_id", "status", "task_name"] };

/** `task result`: task_id, task_name, status, and (when terminal or non-empty) stdout/stderr, plus the jobs. */
export function resultValue(r: TaskResultResponse): Record<string, unknown> {
  const out = jobsOutput(r.jobs);
  const showOutput = isTerminal(r.status) || out.stdout !== "" || out.stderr !== "";
  return { task_id: r.task_id, task_name: r.task_name, status: r.status, ...(showOutput ? out : {}), jobs: r.jobs };
}
export const RESULT_LINE: TableSpec = {
  keys: ["task_id", "status", "task_name", "stdout", "stderr"],
  quoted: ["stdout", "stderr"],
};

/** `task logs`: the gateway's object plus the chosen stream and its lines. */
export function logsValue(logs: TaskLogsResponse, stream: string): Record<string, unknown> {
  const text = stream === "stderr" ? logs.stderr : stream === "stdout" ? logs.stdout : logs.stdout + logs.stderr;
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  return { task_id: logs.task_id, stream, stdout: logs.stdout, stderr: logs.stderr, lines };
}
export const LOGS_STREAMS: TableSpec = { streams: ["stdout", "stderr"] };
