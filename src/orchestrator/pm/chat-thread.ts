/**
 * Which thread a chat agent request continues and what context it carries (reference-agents 2.2, 2.5): the thread
 * the request names (`X-Cynode-Thread-Id`), else the user's active thread of the project, else a new one. A client
 * that sends the conversation (more than one message) is its context; one that sends only its new message gets the
 * thread's stored history, the newest 40 messages. Every message is redacted before it is stored or sent on.
 */
import type { ChatCompletionRequest } from "../../contracts/openai";
import { messageText } from "../chat/ollama-chat";
import { activeThread, appendMessage, createThread, ownThread, recentMessages } from "../db/chat-threads";
import type { Db } from "../db/connect";
import type { ChatThread } from "../db/schema";
import { isUuid } from "../db/tasks";
import { OpenAIApiError } from "../gateway/openai-errors";
import type { AgentMessage } from "./agent-loop";
import { redactSecrets } from "./redact";

export const HISTORY_MESSAGES = 40;

/** The project a header names, when it is a UUID; anything else is no project (never a refusal). */
export const projectOf = (header: string | undefined): string | null =>
  header && isUuid(header.trim()) ? header.trim().toLowerCase() : null;

export async function chatThread(
  db: Db,
  o: { userId: string; projectId: string | null; threadId?: string; now: Date },
): Promise<ChatThread> {
  if (o.threadId) {
    const thread = isUuid(o.threadId) ? await ownThread(db, o.userId, o.threadId.toLowerCase()) : undefined;
    if (!thread) throw new OpenAIApiError(404, "Thread not found", "not_found");
    return thread;
  }
  return (
    (await activeThread(db, o.userId, o.projectId, o.now)) ??
    (await createThread(db, { userId: o.userId, projectId: o.projectId }))
  );
}

type Message = ChatCompletionRequest["messages"][number];
const said = (m: Message): AgentMessage => ({
  role: m.role === "developer" ? "system" : m.role,
  content: redactSecrets(messageText(m.content)).text,
});

/**
 * Stores the request's new user turn on the thread and answers the conversation the model continues (without the
 * system message): the client's, or the thread's history ending with the new turn.
 */
export async function threadContext(db: Db, thread: ChatThread, req: ChatCompletionRequest): Promise<AgentMessage[]> {
  const last = req.messages.findLast((m) => m.role === "user");
  if (!last) throw new OpenAIApiError(400, "At least one user message is required", "invalid_request");
  const history = await recentMessages(db, thread.id, HISTORY_MESSAGES);
  const { text, kinds } = redactSecrets(messageText(last.content));
  await appendMessage(db, {
    threadId: thread.id,
    role: "user",
    content: text,
    metadata: kinds.length ? { redaction_kinds: kinds } : null,
  });
  const sent = req.messages.filter((m) => m.role !== "system" && m.role !== "developer");
  if (sent.length > 1) return req.messages.map(said);
  return [...history.map((m) => ({ role: m.role, content: m.content })), { role: "user", content: text }];
}
