/** The chat agent's tool-call records: one row per call, with its arguments capped and never its result. */
import type { Db } from "./connect";
import type { ChatToolCall } from "./schema";

/** Characters of a call's arguments (as JSON) that are kept. */
export const MAX_RECORDED_ARGUMENTS = 2000;

export type ToolCallEntry = {
  userId: string;
  threadId: string | null;
  tool: string;
  arguments: unknown;
  outcome: "ok" | "error";
  error?: string;
  durationMs: number;
};

export async function recordToolCall(db: Db, e: ToolCallEntry): Promise<void> {
  await db
    .insertInto("chat_tool_calls")
    .values({
      id: crypto.randomUUID(),
      user_id: e.userId,
      thread_id: e.threadId,
      tool: e.tool,
      arguments: (JSON.stringify(e.arguments) ?? "null").slice(0, MAX_RECORDED_ARGUMENTS),
      outcome: e.outcome,
      error: e.error ?? null,
      duration_ms: Math.round(e.durationMs),
    })
    .execute();
}

/** The user's tool calls on a thread, in the order they ran. */
export function toolCallsOfThread(db: Db, userId: string, threadId: string): Promise<ChatToolCall[]> {
  return db
    .selectFrom("chat_tool_calls")
    .selectAll()
    .where("user_id", "=", userId)
    .where("thread_id", "=", threadId)
    .orderBy("seq")
    .execute();
}
