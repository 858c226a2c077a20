/**
 * The one place output is formatted. A command hands over the value it would print as JSON plus a table spec that
 * picks that value's own fields, so table and `-o json` output cannot say different things. Below, how tasks,
 * results and logs print: `jobs[].result` is the JSON text of the worker's RunJobResponse (or of a dispatch-error
 * object); it is parsed a second time here to get stdout/stderr, as the reference's clients do, and `task result`
 * prints it parsed.
 */
import type { OutputFormat } from "./flags";
import {
  TERMINAL_TASK_STATUSES,
  type TaskJob,
  type TaskLogsResponse,
  type TaskResultResponse,
  type TaskStatus,
} from "../contracts/user-api";
import { jobOutput, type JobOutput } from "../contracts/job-result";

type Value = Record<string, unknown>;

export type TableSpec = {
  /** Fields printed as `key=value`, in order; undefined ones are left out. */
  keys?: readonly string[];
  /** Print one line per element of this array field instead of one line for the value. */
  rows?: string;
  /** Fields always printed JSON-quoted (free text such as job output). */
  quoted?: readonly string[];
  /** Text before the fields (e.g. `cynork` in `cynork version=…`), or the whole line when there are no keys. */
  prefix?: string;
  /** Print the values of `keys` alone, without `key=` (`models list`: one model id per line, as the reference). */
  bare?: boolean;
  /** Table mode prints these fields raw, the first on stdout and the second on stderr (task logs). */
  streams?: readonly [stdout: string, stderr: string];
};

export type Rendered = { stdout: string; stderr: string };

/** A value safe to print bare in a `key=value` line; anything else is JSON-quoted. */
const BARE = /^[\w.:/@+,-]+$/;

function field(key: string, value: unknown, quoted: boolean): string {
  const text =
    typeof value === "string" ? (quoted || !BARE.test(value) ? JSON.stringify(value) : value) : JSON.stringify(value);
  return `${key}=${text}`;
}

function line(value: Value, spec: TableSpec): string {
  if (spec.bare) return `${(spec.keys ?? []).map((k) => String(value[k] ?? "")).join(" ")}\n`;
  const parts = (spec.keys ?? [])
    .filter((k) => value[k] !== undefined)
    .map((k) => field(k, value[k], spec.quoted?.includes(k) ?? false));
  return `${[spec.prefix, ...parts].filter((p) => p !== undefined).join(" ")}\n`;
}

export function render(value: Value, format: OutputFormat, spec: TableSpec): Rendered {
  if (format === "json") return { stdout: `${JSON.stringify(value, null, 2)}\n`, stderr: "" };
  if (spec.streams)
    return { stdout: String(value[spec.streams[0]] ?? ""), stderr: String(value[spec.streams[1]] ?? "") };
  if (spec.rows)
    return { stdout: ((value[spec.rows] ?? []) as Value[]).map((row) => line(row, spec)).join(""), stderr: "" };
  return { stdout: line(value, spec), stderr: "" };
}

export function jobsOutput(jobs: readonly TaskJob[]): JobOutput {
  const outs = jobs.map((j) => jobOutput(j.result));
  return { stdout: outs.map((o) => o.stdout).join(""), stderr: outs.map((o) => o.stderr).join("") };
}

export const isTerminal = (status: TaskStatus) => TERMINAL_TASK_STATUSES.includes(status);

export const TASK_LINE: TableSpec = { keys: ["task_id", "status", "task_name"] };

/**
 * A job as `task result` prints it: its `result` parsed into the object it holds (reference-agents §0.12: the
 * reference's agent E2E helper reads `jobs[0].result.sba_result`); a result that is not a JSON object stays text.
 */
export function jobValue(j: TaskJob): Record<string, unknown> {
  if (j.result === undefined) return j;
  let parsed: unknown;
  try {
    parsed = JSON.parse(j.result);
  } catch {
    return j;
  }
  return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? { ...j, result: parsed } : j;
}

/** `task result`: task_id, task_name, status, and (when terminal or non-empty) stdout/stderr, plus the jobs. */
export function resultValue(r: TaskResultResponse): Record<string, unknown> {
  const out = jobsOutput(r.jobs);
  const showOutput = isTerminal(r.status) || out.stdout !== "" || out.stderr !== "";
  const jobs = r.jobs.map(jobValue);
  return { task_id: r.task_id, task_name: r.task_name, status: r.status, ...(showOutput ? out : {}), jobs };
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
