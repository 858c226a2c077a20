/**
 * What a job's `result` holds (as JSON text on the user API): the worker's RunJobResponse, or the dispatcher's
 * error object `{version: 1, status: "failed", error}` when no worker answer exists. Both sides read it here.
 */
import * as v from "valibot";
import { RunJobResponse } from "./worker-api";

export const JobErrorResult = v.object({ version: v.literal(1), status: v.literal("failed"), error: v.string() });
export type JobErrorResult = v.InferOutput<typeof JobErrorResult>;

/** Any part of a RunJobResponse, plus the error object's `error`. */
const StoredJobResult = v.partial(v.object({ ...RunJobResponse.entries, error: v.string() }));

export const jobErrorResult = (error: string): string =>
  JSON.stringify({ version: 1, status: "failed", error } satisfies JobErrorResult);

export type JobOutput = { stdout: string; stderr: string };

/** stdout/stderr of a stored result; a dispatch error joins stderr, and a result that is not JSON counts as stdout. */
export function jobOutput(result: string | undefined): JobOutput {
  if (result === undefined) return { stdout: "", stderr: "" };
  let doc: unknown;
  try {
    doc = JSON.parse(result);
  } catch {
    return { stdout: result, stderr: "" };
  }
  const parsed = v.safeParse(StoredJobResult, doc);
  if (!parsed.success) return { stdout: result, stderr: "" };
  const { stdout = "", stderr = "", error } = parsed.output;
  return { stdout, stderr: error ? `${stderr}${stderr && !stderr.endsWith("\n") ? "\n" : ""}${error}\n` : stderr };
}
