/** Tasks, their jobs and attachment references, always scoped to the owning user. */
import { sql } from "kysely";
import type { Db } from "./connect";
import { TERMINAL_TASK_STATUSES, type TaskStatus } from "../../contracts/user-api";
import type { SandboxSpec } from "../../contracts/worker-api";
import { insertAttachments, type NewTaskFile } from "./task-files";
import { ACTIVE_JOB_STATUSES, type DbTaskStatus, type Job, type Task } from "./schema";

/** The API's task status as stored (`queued` is `pending`, as the reference stores it), and back. */
export const dbTaskStatus = (s: TaskStatus): DbTaskStatus => (s === "queued" ? "pending" : s);
export const apiTaskStatus = (s: DbTaskStatus): TaskStatus => (s === "pending" ? "queued" : s);

export const TERMINAL_DB_STATUSES: readonly DbTaskStatus[] = TERMINAL_TASK_STATUSES.map(dbTaskStatus);
const MAX_ATTACHMENT_PATH = 2048;

export async function ensureDefaultProject(db: Db, userId: string): Promise<string> {
  const slug = `default-${userId}`;
  await db
    .insertInto("projects")
    .values({ id: crypto.randomUUID(), slug, display_name: "Default Project", description: null, updated_by: null })
    .onConflict((oc) => oc.column("slug").doNothing())
    .execute();
  const row = await db.selectFrom("projects").select("id").where("slug", "=", slug).executeTakeFirstOrThrow();
  return row.id;
}

export type NewTaskInput = {
  userId: string;
  projectId: string;
  prompt: string;
  /** Normalized requested name, or "" for a generated one. */
  name: string;
  attachments: string[];
  jobPayload: SandboxSpec;
  /** The task's and its job's ids when the payload names them (an agent job's spec); generated otherwise. */
  ids?: { taskId: string; jobId: string };
  /** Jobs the user may have queued or running at once, this one included; undefined: no cap. */
  maxActiveJobs?: number;
  /** Uploaded attachments, stored before the job is queued. */
  files?: NewTaskFile[];
};

/** A task refused because its creator already has `limit` jobs queued or running. */
export class ActiveJobLimitError extends Error {
  constructor(readonly limit: number) {
    super(`You already have ${limit} tasks queued or running; wait for one to finish`);
  }
}

/** The user's jobs still to run or running (the `MAX_ACTIVE_TASKS_PER_USER` count). */
export async function activeJobCount(db: Db, userId: string): Promise<number> {
  const { n } = await db
    .selectFrom("jobs")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("status", "in", ACTIVE_JOB_STATUSES)
    .where("owner_id", "=", userId)
    .executeTakeFirstOrThrow();
  return Number(n);
}

/** Picks `name`, or `name-2`, `name-3`…, or `task-NNN` when empty, among the names in `taken`. */
export function pickTaskName(name: string, taken: Set<string>, ownedCount: number): string {
  if (name) {
    if (!taken.has(name)) return name;
    for (let i = 2; ; i++) if (!taken.has(`${name}-${i}`)) return `${name}-${i}`;
  }
  for (let i = ownedCount + 1; ; i++) {
    const candidate = `task-${String(i).padStart(3, "0")}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/**
 * Creates the task, its attachment rows and its queued job in one transaction; names are unique per user, and the cap
 * on active jobs holds however many creates race (both are decided under the user's advisory lock).
 */
export async function createTask(db: Db, input: NewTaskInput): Promise<{ task: Task; attachments: string[] }> {
  return db.transaction().execute(async (tx) => {
    // Serialize name picking (and the active-job count) per user so two concurrent creates cannot take the same name.
    await sql`select pg_advisory_xact_lock(hashtext(${input.userId}))`.execute(tx);
    if (input.maxActiveJobs !== undefined && (await activeJobCount(tx, input.userId)) >= input.maxActiveJobs)
      throw new ActiveJobLimitError(input.maxActiveJobs);
    const prefix = input.name || "task-";
    const rows = await tx
      .selectFrom("tasks")
      .select("summary")
      .where("created_by", "=", input.userId)
      .where("summary", "like", `${prefix.replace(/[\\%_]/g, "\\$&")}%`)
      .execute();
    const { count } = await tx
      .selectFrom("tasks")
      .select((eb) => eb.fn.countAll<string>().as("count"))
      .where("created_by", "=", input.userId)
      .executeTakeFirstOrThrow();
    const name = pickTaskName(input.name, new Set(rows.map((r) => r.summary ?? "")), Number(count));

    const task = await tx
      .insertInto("tasks")
      .values({
        id: input.ids?.taskId ?? crypto.randomUUID(),
        created_by: input.userId,
        project_id: input.projectId,
        plan_id: null,
        status: "pending",
        prompt: input.prompt,
        summary: name,
        description: null,
        acceptance_criteria: null,
        metadata: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();

    const paths = [
      ...new Set(input.attachments.map((p) => p.trim()).filter((p) => p && p.length <= MAX_ATTACHMENT_PATH)),
    ];
    if (paths.length)
      await tx
        .insertInto("task_artifacts")
        .values(
          paths.map((path) => ({
            id: crypto.randomUUID(),
            task_id: task.id,
            run_id: null,
            path,
            storage_ref: "",
            size_bytes: null,
            content_type: null,
            checksum_sha256: null,
          })),
        )
        .execute();

    await insertAttachments(tx, task.id, input.files ?? []);
    await tx
      .insertInto("jobs")
      .values({
        id: input.ids?.jobId ?? crypto.randomUUID(),
        task_id: task.id,
        owner_id: input.userId,
        node_id: null,
        status: "queued",
        payload: input.jobPayload,
        result: null,
        lease_id: null,
        lease_expires_at: null,
        started_at: null,
        ended_at: null,
      })
      .execute();
    return { task, attachments: paths };
  });
}

/** A task row with its attachment paths, read in the same query. */
export type TaskWithAttachments = Task & { attachments: string[] };

const attachmentPaths = sql<
  string[]
>`coalesce((select array_agg(a.path order by a.created_at, a.path) from task_artifacts a where a.task_id = tasks.id), '{}')`.as(
  "attachments",
);

/** One page of the user's tasks, newest first, filtered by status in SQL; `hasMore` when another page exists. */
export async function listTasks(
  db: Db,
  userId: string,
  page: { status?: DbTaskStatus; limit: number; offset: number },
): Promise<{ tasks: TaskWithAttachments[]; hasMore: boolean }> {
  let q = db.selectFrom("tasks").selectAll().select(attachmentPaths).where("created_by", "=", userId);
  if (page.status) q = q.where("status", "=", page.status);
  const rows = await q
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(page.limit + 1)
    .offset(page.offset)
    .execute();
  return { tasks: rows.slice(0, page.limit), hasMore: rows.length > page.limit };
}

export type TaskLookup = { task: TaskWithAttachments } | { error: "not_found" | "not_owner" };

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string) => UUID_RE.test(s);

/** A task by UUID (403 semantics for another user's) or by name (the caller's most recent task with it). */
export async function findTask(db: Db, userId: string, idOrName: string): Promise<TaskLookup> {
  if (isUuid(idOrName)) {
    const task = await db
      .selectFrom("tasks")
      .selectAll()
      .select(attachmentPaths)
      .where("id", "=", idOrName.toLowerCase())
      .executeTakeFirst();
    if (!task) return { error: "not_found" };
    return task.created_by === userId ? { task } : { error: "not_owner" };
  }
  const task = await db
    .selectFrom("tasks")
    .selectAll()
    .select(attachmentPaths)
    .where("created_by", "=", userId)
    .where("summary", "=", idOrName)
    .orderBy("created_at", "desc")
    .limit(1)
    .executeTakeFirst();
  return task ? { task } : { error: "not_found" };
}

export function jobsOfTask(db: Db, taskId: string): Promise<Job[]> {
  return db.selectFrom("jobs").selectAll().where("task_id", "=", taskId).orderBy("created_at").orderBy("id").execute();
}

/**
 * Marks the task canceled (unless already terminal) and its queued/running jobs canceled.
 * Returns the jobs that were running on a node, so the caller can ask those nodes to stop them.
 */
export async function cancelTask(db: Db, taskId: string, now: Date): Promise<{ id: string; node_id: string }[]> {
  return db.transaction().execute(async (tx) => {
    await tx
      .updateTable("tasks")
      .set({ status: "canceled", closed: true, updated_at: now })
      .where("id", "=", taskId)
      .where("status", "not in", TERMINAL_DB_STATUSES)
      .execute();
    const jobs = await tx
      .updateTable("jobs")
      .set({ status: "canceled", ended_at: now, updated_at: now, lease_id: null, lease_expires_at: null })
      .where("task_id", "=", taskId)
      .where("status", "in", ACTIVE_JOB_STATUSES)
      .returning(["id", "node_id"])
      .execute();
    // Only a job the dispatcher handed to a node has a node to notify.
    return jobs.filter((j): j is { id: string; node_id: string } => j.node_id !== null);
  });
}
