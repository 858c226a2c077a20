/**
 * Agent jobs' live step lines (decision 22): appended by the node the job runs on while it runs, read by the task's
 * logs. The stored list is capped: past `JOB_PROGRESS_MAX_LINES` lines, one marker line follows and later lines are dropped,
 * so what was shown once stays a prefix of what is shown next (`cynork task logs -F` prints only what is new).
 */
import { sql } from "kysely";
import { JOB_PROGRESS_LINE_CAP, JOB_PROGRESS_MAX_LINES } from "../../contracts/node-payloads";
import type { Db } from "./connect";

export const PROGRESS_DROPPED_LINE = "[further steps not shown: the step log is full]";

export type ProgressAppend = "appended" | "not_found" | "not_on_node" | "not_running";

/** The stored list as strings (anything else in the column reads as no lines). */
export const progressLines = (stored: unknown): string[] =>
  Array.isArray(stored) ? stored.filter((l): l is string => typeof l === "string") : [];

/** One line as stored: a single line (newlines become spaces), cut to the cap. */
const storedLine = (line: string) => {
  const flat = line.replace(/\r?\n/g, " ");
  return flat.length > JOB_PROGRESS_LINE_CAP ? `${flat.slice(0, JOB_PROGRESS_LINE_CAP)}…` : flat;
};

/** `lines` after `stored`, at most `max` of them, then the marker line once some were dropped. */
export function cappedProgress(stored: string[], lines: string[], max = JOB_PROGRESS_MAX_LINES): string[] {
  if (stored.length > max) return stored;
  const next = [...stored, ...lines.map(storedLine)];
  return next.length > max ? [...next.slice(0, max), PROGRESS_DROPPED_LINE] : next;
}

/** Appends the lines to the job if it is running on `nodeId`; otherwise says why not. */
export async function appendJobProgress(
  db: Db,
  input: { jobId: string; nodeId: string; lines: string[]; now: Date },
): Promise<ProgressAppend> {
  return db.transaction().execute(async (tx) => {
    const job = await tx
      .selectFrom("jobs")
      .select(["status", "node_id", "progress"])
      .where("id", "=", input.jobId)
      .forUpdate()
      .executeTakeFirst();
    if (!job) return "not_found";
    if (job.node_id !== input.nodeId) return "not_on_node";
    if (job.status !== "running") return "not_running";
    if (!input.lines.length) return "appended";
    const progress = cappedProgress(progressLines(job.progress), input.lines);
    await tx
      .updateTable("jobs")
      .set({ progress: sql`${JSON.stringify(progress)}::text::jsonb`, updated_at: input.now })
      .where("id", "=", input.jobId)
      .execute();
    return "appended";
  });
}
