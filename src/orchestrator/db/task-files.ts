/**
 * A task's files (migration 0011): attachments stored with the task, artifacts stored as its jobs report them. Bytes
 * live in Postgres as chunks of `CHUNK_BYTES`, so any orchestrator serves them and every statement stays short;
 * listings never load bytes.
 */
import { contentTypeOf, type TaskFileView } from "../../contracts/task-files";
import type { Db } from "./connect";
// tasks.ts stores attachments with its task through this module; both only use the other's exports when called.
import { isUuid, TERMINAL_DB_STATUSES } from "./tasks";

export type FileKind = "attachment" | "artifact";
export type NewTaskFile = { name: string; data: Uint8Array; contentType?: string };
/** A stored file: what is listed of it, and its bytes when asked. */
export type StoredTaskFile = TaskFileView & { bytes(): Promise<Blob> };

/** Bytes per chunk row. */
export const CHUNK_BYTES = 4 * 1024 * 1024;

const sha256 = (data: Uint8Array) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

function view(f: NewTaskFile): TaskFileView {
  return {
    name: f.name,
    size_bytes: f.data.length,
    sha256: sha256(f.data),
    content_type: f.contentType || contentTypeOf(f.name),
  };
}

/** Writes one file: its row, then its chunks, one statement each. */
async function insertFile(db: Db, taskId: string, kind: FileKind, f: NewTaskFile, jobId: string | null) {
  const v = view(f);
  await db
    .insertInto("task_files")
    .values({ task_id: taskId, kind, job_id: jobId, ...v })
    .execute();
  const key = { task_id: taskId, kind, name: f.name };
  for (let seq = 0; seq * CHUNK_BYTES < f.data.length; seq++)
    await db
      .insertInto("task_file_chunks")
      .values({ ...key, seq, data: f.data.subarray(seq * CHUNK_BYTES, (seq + 1) * CHUNK_BYTES) })
      .execute();
  return v;
}

/** Stores a task's attachments (in the transaction that creates the task, so its job never runs without them). */
export async function insertAttachments(db: Db, taskId: string, files: NewTaskFile[]): Promise<void> {
  for (const f of files) await insertFile(db, taskId, "attachment", f, null);
}

/** Stores (or replaces: a job run again reports again) one artifact a job reported. */
export function storeArtifact(db: Db, taskId: string, jobId: string, file: NewTaskFile): Promise<TaskFileView> {
  return db.transaction().execute(async (tx) => {
    await tx
      .deleteFrom("task_files")
      .where("task_id", "=", taskId)
      .where("kind", "=", "artifact")
      .where("name", "=", file.name)
      .execute();
    return insertFile(tx, taskId, "artifact", file, jobId);
  });
}

const META = ["name", "size_bytes", "sha256", "content_type"] as const;

/** A task's files of one kind, by name, without their bytes. */
export async function listTaskFiles(db: Db, taskId: string, kind: FileKind): Promise<TaskFileView[]> {
  const rows = await db
    .selectFrom("task_files")
    .select(META)
    .where("task_id", "=", taskId)
    .where("kind", "=", kind)
    .orderBy("name")
    .execute();
  return rows.map((r) => ({ ...r, size_bytes: Number(r.size_bytes) }));
}

/**
 * One file's bytes, its chunks read one by one, as a Blob: Bun drops a handler's Content-Length on a streamed body
 * (oven-sh/bun#10507), so a download with its length is served from the assembled file.
 */
async function assembled(db: Db, key: { taskId: string; kind: FileKind; name: string }): Promise<Blob> {
  const parts: Uint8Array[] = [];
  for (let seq = 0; ; seq++) {
    const row = await db
      .selectFrom("task_file_chunks")
      .select("data")
      .where("task_id", "=", key.taskId)
      .where("kind", "=", key.kind)
      .where("name", "=", key.name)
      .where("seq", "=", seq)
      .executeTakeFirst();
    if (!row) return new Blob(parts);
    parts.push(new Uint8Array(row.data));
  }
}

/** One file, its bytes read when asked, or undefined. */
export async function readTaskFile(
  db: Db,
  taskId: string,
  kind: FileKind,
  name: string,
): Promise<StoredTaskFile | undefined> {
  const r = await db
    .selectFrom("task_files")
    .select(META)
    .where("task_id", "=", taskId)
    .where("kind", "=", kind)
    .where("name", "=", name)
    .executeTakeFirst();
  return r && { ...r, size_bytes: Number(r.size_bytes), bytes: () => assembled(db, { taskId, kind, name }) };
}

/** The task of a job that runs on this node now (what a node may fetch and report files for), or undefined. */
export async function runningJobTask(db: Db, jobId: string, nodeId: string): Promise<string | undefined> {
  if (!isUuid(jobId)) return undefined;
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
      eb.selectFrom("tasks").select("id").where("status", "in", TERMINAL_DB_STATUSES).where("updated_at", "<", cutoff),
    )
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
