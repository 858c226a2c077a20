/**
 * Chat threads and their messages (reference-agents 2.5): each user sees only their own threads; messages are
 * append-only (stored already redacted) and each one bumps its thread's `updated_at`, which keeps it active.
 */
import type { Db } from "./connect";
import type { ChatMessageRow, ChatThread } from "./schema";

/** A thread idle this long is no longer its user's active thread of the project: the next chat starts a new one. */
export const ACTIVE_THREAD_IDLE_MS = 2 * 3600_000;

export async function createThread(
  db: Db,
  t: { userId: string; projectId: string | null; title?: string | null },
): Promise<ChatThread> {
  return db
    .insertInto("chat_threads")
    .values({ id: crypto.randomUUID(), user_id: t.userId, project_id: t.projectId, title: t.title ?? null })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The user's thread with this id, or undefined (also when it is another user's). */
export function ownThread(db: Db, userId: string, id: string): Promise<ChatThread | undefined> {
  return db
    .selectFrom("chat_threads")
    .selectAll()
    .where("id", "=", id)
    .where("user_id", "=", userId)
    .executeTakeFirst();
}

/** The user's most recently used thread of the project (none: no project) if used within the idle window. */
export function activeThread(db: Db, userId: string, projectId: string | null, now: Date) {
  let q = db
    .selectFrom("chat_threads")
    .selectAll()
    .where("user_id", "=", userId)
    .where("updated_at", ">", new Date(now.getTime() - ACTIVE_THREAD_IDLE_MS));
  q = projectId ? q.where("project_id", "=", projectId) : q.where("project_id", "is", null);
  return q.orderBy("updated_at", "desc").limit(1).executeTakeFirst();
}

export function listThreads(db: Db, userId: string, page: { limit: number; offset: number; projectId?: string }) {
  let q = db.selectFrom("chat_threads").selectAll().where("user_id", "=", userId);
  if (page.projectId) q = q.where("project_id", "=", page.projectId);
  return q.orderBy("updated_at", "desc").orderBy("id").limit(page.limit).offset(page.offset).execute();
}

export async function appendMessage(
  db: Db,
  m: { threadId: string; role: string; content: string; metadata?: unknown },
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await tx
      .insertInto("chat_messages")
      .values({
        id: crypto.randomUUID(),
        thread_id: m.threadId,
        role: m.role,
        content: m.content,
        metadata: m.metadata ?? null,
      })
      .execute();
    await tx.updateTable("chat_threads").set({ updated_at: new Date() }).where("id", "=", m.threadId).execute();
  });
}

/** The thread's newest `limit` messages, oldest first (the context a chat continues from). */
export async function recentMessages(db: Db, threadId: string, limit: number): Promise<ChatMessageRow[]> {
  const rows = await db
    .selectFrom("chat_messages")
    .selectAll()
    .where("thread_id", "=", threadId)
    .orderBy("seq", "desc")
    .limit(limit)
    .execute();
  return rows.reverse();
}

export async function messagesPage(db: Db, threadId: string, page: { limit: number; offset: number }) {
  const [rows, count] = await Promise.all([
    db
      .selectFrom("chat_messages")
      .selectAll()
      .where("thread_id", "=", threadId)
      .orderBy("seq")
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
    db
      .selectFrom("chat_messages")
      .select((e) => e.fn.countAll<string>().as("n"))
      .where("thread_id", "=", threadId)
      .executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}
