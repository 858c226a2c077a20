/** The chat audit log: one row per OpenAI-compatible chat request, never any message content. */
import type { Db } from "./connect";

export type ChatAuditEntry = {
  userId: string;
  model: string;
  nodeId: string | null;
  stream: boolean;
  messageCount: number;
  statusCode: number;
  outcome: string;
  durationMs: number;
  ip: string | null;
};

export async function recordChatRequest(db: Db, e: ChatAuditEntry): Promise<void> {
  await db
    .insertInto("chat_audit_log")
    .values({
      id: crypto.randomUUID(),
      user_id: e.userId,
      model: e.model,
      node_id: e.nodeId,
      stream: e.stream,
      message_count: e.messageCount,
      status_code: e.statusCode,
      outcome: e.outcome,
      duration_ms: Math.round(e.durationMs),
      ip_address: e.ip,
    })
    .execute();
}
