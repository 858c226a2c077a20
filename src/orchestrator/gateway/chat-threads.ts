/**
 * Chat threads (reference-agents 2.5) and the chat agent's tool-call records (decision 26), in OpenAI's error shape
 * as the other chat routes: a user sees only their own threads; a thread names its project (the body's, else the
 * `OpenAI-Project` header's; anything but a UUID is no project, never a refusal).
 */
import { Hono } from "hono";
import { PROJECT_HEADER, type Thread, type ThreadMessages, type ToolCallList } from "../../contracts/chat-agent";
import { OpenAIError } from "../../contracts/openai";
import type { AnyRoute } from "../../contracts/route";
import { USER_API } from "../../contracts/routes";
import { describeRoute } from "../../lib/openapi";
import { rfc3339 } from "../../lib/rfc3339";
import { validated } from "../../lib/validate";
import { createThread, listThreads, messagesPage, ownThread } from "../db/chat-threads";
import { toolCallsOfThread } from "../db/chat-tool-calls";
import type { ChatThread } from "../db/schema";
import { isUuid } from "../db/tasks";
import { projectOf } from "../pm/chat-thread";
import { OpenAIApiError } from "./openai-errors";
import { requireUser, type GatewayEnv, type GatewayRouteDeps } from "./require-user";

const doc = (route: AnyRoute, summary: string, statuses: number[]) =>
  describeRoute(route, {
    summary,
    tags: ["chat"],
    responses: Object.fromEntries([401, ...statuses].map((s) => [s, OpenAIError])),
  });

export function threadView(t: ChatThread): Thread {
  return {
    id: t.id,
    thread_id: t.id,
    ...(t.title ? { title: t.title } : {}),
    ...(t.project_id ? { project_id: t.project_id } : {}),
    created_at: rfc3339(t.created_at),
    updated_at: rfc3339(t.updated_at),
  };
}

function page(q: { limit?: string; offset?: string }, max: number) {
  const limit = q.limit ? Number(q.limit) : 20;
  const offset = q.offset ? Number(q.offset) : 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > max || !Number.isInteger(offset) || offset < 0)
    throw new OpenAIApiError(400, "Invalid limit or offset", "invalid_request");
  return { limit, offset };
}

async function userThread(d: GatewayRouteDeps, userId: string, id: string): Promise<ChatThread> {
  if (!isUuid(id)) throw new OpenAIApiError(400, "invalid thread id", "invalid_request");
  const thread = await ownThread(d.db, userId, id.toLowerCase());
  if (!thread) throw new OpenAIApiError(404, "Thread not found", "not_found");
  return thread;
}

async function messages(d: GatewayRouteDeps, thread: ChatThread, q: { limit?: string; offset?: string }) {
  const p = page(q, 200);
  const { rows, total } = await messagesPage(d.db, thread.id, p);
  const body: ThreadMessages = {
    data: rows.map((m) => ({
      id: m.id,
      role: m.role,
      content: m.content,
      metadata: m.metadata ?? null,
      created_at: rfc3339(m.created_at),
    })),
    total_count: total,
    ...(p.offset + rows.length < total ? { next_offset: p.offset + rows.length } : {}),
  };
  return body;
}

async function toolCalls(d: GatewayRouteDeps, userId: string, thread: ChatThread): Promise<ToolCallList> {
  const rows = await toolCallsOfThread(d.db, userId, thread.id);
  return {
    data: rows.map((r) => ({
      id: r.id,
      thread_id: r.thread_id,
      tool: r.tool,
      arguments: r.arguments,
      outcome: r.outcome === "ok" ? "ok" : "error",
      ...(r.error ? { error: r.error } : {}),
      duration_ms: r.duration_ms,
      created_at: rfc3339(r.created_at),
    })),
  };
}

export function chatThreadRoutes(d: GatewayRouteDeps) {
  const { createThread: CREATE, listThreads: LIST, thread: GET, threadMessages: MESSAGES } = USER_API;
  const TOOLS = USER_API.threadToolCalls;
  const auth = requireUser(d.tokens);
  return new Hono<GatewayEnv>()
    .post(
      CREATE.pattern,
      doc(CREATE, "Start a chat thread (it becomes the active one of its project)", [400]),
      auth,
      validated("json", CREATE.body, "Invalid request body"),
      async (c) => {
        const body = c.req.valid("json");
        const projectId = projectOf(body.project_id ?? undefined) ?? projectOf(c.req.header(PROJECT_HEADER));
        const thread = await createThread(d.db, { userId: c.get("user").id, projectId, title: body.title });
        return c.json(threadView(thread), 201);
      },
    )
    .get(
      LIST.pattern,
      doc(LIST, "The caller's chat threads, most recently used first", [400]),
      auth,
      validated("query", LIST.query),
      async (c) => {
        const projectId = projectOf(c.req.query("project_id")) ?? undefined;
        const rows = await listThreads(d.db, c.get("user").id, { ...page(c.req.valid("query"), 100), projectId });
        return c.json({ data: rows.map(threadView) });
      },
    )
    .get(GET.pattern, doc(GET, "A chat thread", [400, 404]), auth, async (c) =>
      c.json(threadView(await userThread(d, c.get("user").id, c.req.param("id")))),
    )
    .get(
      MESSAGES.pattern,
      doc(MESSAGES, "A thread's messages, oldest first (stored redacted)", [400, 404]),
      auth,
      validated("query", MESSAGES.query),
      async (c) => {
        const thread = await userThread(d, c.get("user").id, c.req.param("id"));
        return c.json(await messages(d, thread, c.req.valid("query")));
      },
    )
    .get(
      TOOLS.pattern,
      doc(TOOLS, "The chat agent's tool calls on a thread, in order", [400, 404]),
      auth,
      async (c) => {
        const userId = c.get("user").id;
        return c.json(await toolCalls(d, userId, await userThread(d, userId, c.req.param("id"))));
      },
    );
}
