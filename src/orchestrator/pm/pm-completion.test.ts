/**
 * The chat agent end to end: the real orchestrator on a real database, a real worker node running tasks in real
 * sandboxes, and the Ollama test double playing a tool-calling model (src/testing/chat-agent-scripts.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import OpenAI from "openai";
import { PM_MODEL, PROJECT_HEADER, THREAD_HEADER } from "../../contracts/chat-agent";
import { USER_API } from "../../contracts/routes";
import {
  CHAT_AGENT_SCRIPTS,
  ECHO_ANSWER_PREFIX,
  ECHO_REQUEST,
  FAIL_MARKER,
  PEEK_ANSWER_PREFIX,
  PEEK_MARKER,
} from "../../testing/chat-agent-scripts";
import { startLocalSystem, type LocalSystem } from "../../testing/local-system";
import { testReply } from "../../testing/ollama-test-server";
import { eventually } from "../../testing/until";

const MODEL = "qwen3.5:0.8b";
let system: LocalSystem;
let token: string;

beforeAll(async () => {
  system = await startLocalSystem({
    name: "pm-agent",
    models: [MODEL],
    ollama: { chatAgentScripts: CHAT_AGENT_SCRIPTS },
  });
  token = await system.adminToken();
}, 300_000);

afterAll(() => system?.stop());

async function call(
  path: string,
  o: { method?: string; body?: unknown; headers?: Record<string, string>; as?: string } = {},
) {
  const res = await fetch(new URL(path, system.orchestrator.gateway.url), {
    method: o.method ?? (o.body === undefined ? "GET" : "POST"),
    headers: { authorization: `Bearer ${o.as ?? token}`, "content-type": "application/json", ...o.headers },
    body: o.body === undefined ? undefined : JSON.stringify(o.body),
  });
  return { res, body: (await res.json()) as any };
}

const chat = (content: string, o: { headers?: Record<string, string>; as?: string } = {}) =>
  call(USER_API.chatCompletions.path(), { ...o, body: { model: PM_MODEL, messages: [{ role: "user", content }] } });

/** What the double was last asked on /api/chat. */
const lastAsked = () => JSON.parse(system.ollama.requests.findLast((r) => r.path === "/api/chat")!.body);

describe("cynodeai.pm", () => {
  it("is listed first by /v1/models", async () => {
    const { body } = await call(USER_API.models.path());
    expect(body.data.map((m: { id: string }) => m.id)).toEqual([PM_MODEL, MODEL]);
  });

  it("creates a commands task, waits for it and answers with its output; the calls are recorded", async () => {
    const project = crypto.randomUUID();
    const { res, body } = await chat(ECHO_REQUEST, { headers: { [PROJECT_HEADER]: project } });
    expect(res.status).toBe(200);
    expect([body.model, body.choices[0].message.content]).toEqual([PM_MODEL, `${ECHO_ANSWER_PREFIX} hi`]);
    const asked = lastAsked();
    expect(asked.tools.map((t: { function: { name: string } }) => t.function.name)).toContain("task_create");
    expect(asked.messages.filter((m: { role: string }) => m.role === "tool").length).toBe(2);
    const task = await system.db.db
      .selectFrom("tasks")
      .selectAll()
      .where("prompt", "=", "echo hi")
      .executeTakeFirstOrThrow();
    expect(task.project_id).toBe(project);
    const thread = res.headers.get(THREAD_HEADER)!;
    const calls = (await call(USER_API.threadToolCalls.path({ id: thread }))).body.data;
    expect(calls.map((c: { tool: string; outcome: string }) => [c.tool, c.outcome])).toEqual([
      ["task_create", "ok"],
      ["task_result", "ok"],
    ]);
    expect(JSON.parse(calls[0].arguments)).toEqual({ prompt: "echo hi", input_mode: "commands" });
    expect(calls.every((c: { duration_ms: number }) => c.duration_ms >= 0)).toBe(true);
  }, 120_000);

  it("keeps a thread's context across turns without the client resending it, secrets redacted", async () => {
    const thread = (await call(USER_API.createThread.path(), { body: { title: "colours" } })).body;
    expect(thread).toMatchObject({ title: "colours", thread_id: thread.id });
    const on = { headers: { [THREAD_HEADER]: thread.id } };
    const first = await chat("remember blue, api_key=abcd1234efgh", on);
    expect(first.body.choices[0].message.content).toBe(testReply("remember blue, api_key: SECRET_REDACTED"));
    await chat("which colour?", on);
    const said = lastAsked().messages.map((m: { role: string; content: string }) => `${m.role}: ${m.content}`);
    expect(said.slice(1)).toEqual([
      "user: remember blue, api_key: SECRET_REDACTED",
      `assistant: ${testReply("remember blue, api_key: SECRET_REDACTED")}`,
      "user: which colour?",
    ]);
    const stored = (await call(USER_API.threadMessages.path({ id: thread.id }))).body;
    expect(stored.total_count).toBe(4);
    expect(JSON.stringify(stored)).not.toContain("abcd1234efgh");
    const list = (await call(USER_API.listThreads.path())).body.data.map((t: { id: string }) => t.id);
    expect(list[0]).toBe(thread.id);
    const huge = await call(USER_API.createThread.path(), { body: { title: "x".repeat(11 * 1024 * 1024) } });
    expect([huge.res.status, huge.body.error.code]).toEqual([413, "request_too_large"]);
  }, 60_000);

  it("refuses another user's task exactly as the gateway does, and records the refusal", async () => {
    const task = (await call(USER_API.createTask.path(), { body: { prompt: "true", input_mode: "commands" } })).body;
    await call(USER_API.createUser.path(), { body: { handle: "bob", password: "bob-password-1" } });
    const login = await call(USER_API.login.path(), { body: { handle: "bob", password: "bob-password-1" } });
    const bob = login.body.access_token;
    const direct = await call(USER_API.task.path({ id: task.id }), { as: bob });
    const { res, body } = await chat(`${PEEK_MARKER} ${task.id}`, { as: bob });
    const told = JSON.parse(body.choices[0].message.content.slice(PEEK_ANSWER_PREFIX.length));
    expect(told).toEqual({ status: direct.res.status, error: direct.body.detail });
    const calls = (await call(USER_API.threadToolCalls.path({ id: res.headers.get(THREAD_HEADER)! }), { as: bob }))
      .body;
    expect(calls.data.map((c: { outcome: string }) => c.outcome)).toEqual(["error"]);
    const theirs = await call(USER_API.threadToolCalls.path({ id: res.headers.get(THREAD_HEADER)! }));
    expect(theirs.res.status).toBe(404);
  }, 60_000);
});

describe("cynodeai.pm streaming", () => {
  /** Asks `cynodeai.pm` for a streamed answer to `content` through the official openai client. */
  const streamPm = (content: string) =>
    new OpenAI({
      baseURL: new URL("/v1", system.orchestrator.gateway.url).href,
      apiKey: token,
      maxRetries: 0,
    }).chat.completions.create({ model: PM_MODEL, messages: [{ role: "user", content }], stream: true });

  it("streams through the official openai client, tool progress first, then the answer", async () => {
    const stream = await streamPm(ECHO_REQUEST);
    let text = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toStartWith("> task_create ");
    expect(text).toContain("> task_result ");
    expect(text).toEndWith(`${ECHO_ANSWER_PREFIX} hi`);
    expect(finish).toBe("stop");
  }, 120_000);

  it("sends a failure mid-stream as an OpenAI error event, and finishes the run", async () => {
    const stream = await streamPm(FAIL_MARKER);
    const failed = await (async () => {
      for await (const _ of stream);
    })().catch((err: Error) => err);
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    expect((failed as InstanceType<typeof OpenAI.APIError>).message).toContain("Inference failed on the node");
    const open = await system.db.db.selectFrom("workflow_checkpoints").select("last_node_id").execute();
    expect(open.every((c) => c.last_node_id === "done")).toBe(true);
  }, 60_000);

  it("ends a stream its client leaves, audited as canceled", async () => {
    const res = await fetch(new URL(USER_API.chatCompletions.path(), system.orchestrator.gateway.url), {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: PM_MODEL, stream: true, messages: [{ role: "user", content: ECHO_REQUEST }] }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await eventually(
      () =>
        system.db.db
          .selectFrom("chat_audit_log")
          .select("outcome")
          .where("model", "=", PM_MODEL)
          .where("outcome", "=", "canceled")
          .executeTakeFirst(),
      "the canceled stream's audit row",
    );
  }, 60_000);
});
