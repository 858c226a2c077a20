/** Database rows → user API shapes (status `pending` shows as `queued`; jobs' results are JSON text). */
import type { TaskJob, TaskResponse } from "../../contracts/user-api";
import { rfc3339 } from "../../lib/rfc3339";
import { apiTaskStatus, type Job, type Task } from "../db/schema";

export function taskView(t: Task, attachments: string[] = []): TaskResponse {
  const name = t.summary ?? undefined;
  return {
    id: t.id,
    task_id: t.id,
    status: apiTaskStatus(t.status),
    ...(name !== undefined ? { task_name: name, summary: name } : {}),
    ...(t.prompt !== null ? { prompt: t.prompt } : {}),
    created_at: rfc3339(t.created_at),
    updated_at: rfc3339(t.updated_at),
    ...(attachments.length ? { attachments } : {}),
  };
}

/** postgres.js hands jsonb back parsed; the wire wants the JSON text, as the reference stores it. */
export const jsonText = (value: unknown): string | undefined =>
  value === null || value === undefined ? undefined : typeof value === "string" ? value : JSON.stringify(value);

export function jobView(j: Job): TaskJob {
  const result = jsonText(j.result);
  return {
    id: j.id,
    status: j.status,
    ...(result !== undefined ? { result } : {}),
    ...(j.started_at ? { started_at: rfc3339(j.started_at) } : {}),
    ...(j.ended_at ? { ended_at: rfc3339(j.ended_at) } : {}),
  };
}
