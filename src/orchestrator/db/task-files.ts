/**
 * A task's files (migration 0011): attachments stored with the task, artifacts stored as its jobs report them. Bytes
 * live in Postgres (bytea), so any orchestrator serves them; reads of a listing never load the bytes.
 */
import { contentTypeOf, type TaskFileView } from "../../contracts/task-files";
import type { Db } from "./connect";
import { TERMINAL_TASK_STATUSES } from "../../contracts/user-api";
import type { DbTaskStatus } from "./schema";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ended tasks (no terminal status is spelled differently in the database). */
const ENDED = TERMINAL_TASK_STATUSES as readonly DbTaskStatus[];

export type FileKind = "attachment" | "artifact";
export type NewTaskFile = { name: string; data: Uint8Array; contentType?: string };
export type StoredTaskFile = TaskFileView & { data: Uint8Array };

const sha256 = (data: Uint8Array) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

const row = (taskId: string, kind: FileKind, f: NewTaskFile, jobId: string | null) => ({
  task_id: taskId,
  kind,
  name: f.name,
  job_id: jobId,
  size_bytes: f.data.length,
  sha256: sha256(f.data),
  content_type: f.contentType || contentTypeOf(f.name),
  data: f.data,
});

/** Stores a task's attachments (in the transaction that creates the task, so its job never runs without them). */
export async function insertAttachments(db: Db, taskId: string, files: NewTaskFile[]): Promise<void> {
  if (files.length)
    await db
      .insertInto("task_files")
      .values(files.map((f) => row(taskId, "attachment", f, null)))
      .execute();
}

/** Stores (or replaces: a job run again reports again) one artifact a job reported. */
export async function storeArtifact(db: Db, taskId: string, jobId: string, file: NewTaskFile): Promise<TaskFileView> {
  const r = row(taskId, "artifact", file, jobId);
  await db
    .insertInto("task_files")
    .values(r)
    .onConflict((oc) =>
      oc.columns(["task_id", "kind", "name"]).doUpdateSet({
        job_id: r.job_id,
        size_bytes: r.size_bytes,
        sha256: r.sha256,
        content_type: r.content_type,
        data: r.data,
      }),
    )
    .execute();
  return { name: r.name, size_bytes: r.size_bytes, sha256: r.sha256, content_type: r.content_type };
}

/** A task's files of one kind, by name, without their bytes. */
export async function listTaskFiles(db: Db, taskId: string, kind: FileKind): Promise<TaskFileView[]> {
  const rows = await db
    .selectFrom("task_files")
    .select(["name", "size_bytes", "sha256", "content_type"])
    .where("task_id", "=", taskId)
    .where("kind", "=", kind)
    .orderBy("name")
    .execute();
  return rows.map((r) => ({ ...r, size_bytes: Number(r.size_bytes) }));
}

/** One file with its bytes, or undefined. */
export async function readTaskFile(
  db: Db,
  taskId: string,
  kind: FileKind,
  name: string,
): Promise<StoredTaskFile | undefined> {
  const r = await db
    .selectFrom("task_files")
    .select(["name", "size_bytes", "sha256", "content_type", "data"])
    .where("task_id", "=", taskId)
    .where("kind", "=", kind)
    .where("name", "=", name)
    .executeTakeFirst();
  return r && { ...r, size_bytes: Number(r.size_bytes) };
}

/** The task of a job that runs on this node now (what a node may fetch and report files for), or undefined. */
export async function runningJobTask(db: Db, jobId: string, nodeId: string): Promise<string | undefined> {
  if (!UUID.test(jobId)) return undefined;
  const r = await db
    .selectFrom("jobs")
    .select("task_id")
    .where("id", "=", jobId)
    .where("node_id", "=", nodeId)
    .where("status", "=", "running")
    .executeTakeFirst();
  return r?.task_id;
}

/** Removes the artifacts of tasks that ended before `cutoff` (the retention); returns how many went. */
export async function pruneArtifacts(db: Db, cutoff: Date): Promise<number> {
  const r = await db
    .deleteFrom("task_files")
    .where("kind", "=", "artifact")
    .where("task_id", "in", (eb) =>
      eb.selectFrom("tasks").select("id").where("status", "in", ENDED).where("updated_at", "<", cutoff),
    )
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
