/**
 * TEST DOUBLE — an Ollama-API-compatible fake for tests only, never shipped as inference.
 * Answers `/api/tags`, `/v1/models`, `/api/version`, `/api/generate` and `/api/chat` (streamed NDJSON or one JSON object) with a
 * reply derived only from the input (`echo: <prompt>`), so tests can assert exactly what a model "said". A chat whose
 * first user message holds a script's marker follows that script instead: scripted tool-calling conversations, one
 * reply per assistant turn so far (tool calls, then a final answer that may quote what the tools answered).
 */
import { chmod, rm } from "node:fs/promises";

export type OllamaTestServerOptions = {
  /** TCP port; 0 picks a free one. Omit (with `socket` set) to listen on the Unix socket only. */
  port?: number;
  hostname?: string;
  /** Unix socket path to listen on (in addition to TCP when `port` is given). */
  socket?: string;
  models?: string[];
  /** Chat agent scripts (see chatAgentReply below): by marker found in the conversation's last user message. */
  chatAgentScripts?: Record<string, ChatAgentTurn[]>;
  /** Delay before each streamed chunk after the first and before a non-streamed reply (out-of-process tests). */
  chunkDelayMs?: number;
  /** Awaited before streamed chunk `index` is sent (index 0 = first): lets a test hold the stream open. */
  beforeChunk?: (index: number) => Promise<void>;
  /** Awaited before any /api/generate or /api/chat answers: a slow upstream. */
  beforeReply?: () => Promise<void>;
  now?: () => Date;
  /** Scripted chats by marker (found in the first user message): the n-th reply answers the n-th model turn. */
  scripts?: Record<string, ScriptedReply[]>;
};

export type ScriptedCall = { name: string; arguments: unknown };
/** One scripted model turn; a function sees the conversation so far (e.g. to quote the last tool message). */
export type ScriptedReply =
  | {
      content?: string;
      tool_calls?: ScriptedCall[];
      prompt_eval_count?: number;
      eval_count?: number;
      /** An Ollama error answer instead (e.g. 500 with `error`). */
      status?: number;
      error?: string;
    }
  | ((messages: ChatMessage[]) => Exclude<ScriptedReply, (m: ChatMessage[]) => unknown>);
/** The final reply once a script has no turn left. */
export const SCRIPT_DONE = "script done";

export type RecordedRequest = { method: string; path: string; headers: Record<string, string>; body: string };

export type OllamaTestServer = {
  /** `http://host:port` when on TCP, else undefined. */
  url?: string;
  socket?: string;
  /** Every request received, in order: lets tests check what a proxy forwarded. */
  requests: RecordedRequest[];
  stop(): Promise<void>;
};

export const TEST_SERVER_VERSION = "0.0.0-cynode-test-double";

/** The deterministic reply to a prompt, as the double generates it. */
export function testReply(prompt: string): string {
  return `echo: ${prompt}`;
}

/** Splits a reply into several chunks (word by word, spaces kept) so streaming is observable. */
export function replyChunks(reply: string): string[] {
  return reply.match(/\S+\s*|\s+/g) ?? [""];
}

export type ChatMessage = { role?: string; content?: string; tool_calls?: unknown[]; tool_name?: string };
type ApiBody = { model?: string; prompt?: string; messages?: ChatMessage[]; stream?: boolean };

const sleep = (ms: number) => (ms > 0 ? Bun.sleep(ms) : Promise.resolve());

/** JSON as Ollama's Go encoder writes it: `<`, `>`, `&`, U+2028 and U+2029 escaped as \uXXXX, so clients must decode them. */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
const json = (value: unknown, status = 200) =>
  new Response(goJson(value), { status, headers: { "content-type": "application/json; charset=utf-8" } });

function tagsBody(models: string[], now: Date) {
  return {
    models: models.map((name) => ({
      name,
      model: name,
      modified_at: now.toISOString(),
      size: 1024,
      digest: "0".repeat(64),
      details: {
        format: "gguf",
        family: "test-double",
        families: ["test-double"],
        parameter_size: "0B",
        quantization_level: "none",
      },
    })),
  };
}

/** A reply as Ollama streams it: one NDJSON line per chunk, then the `done` line. */
function streamedReply(
  chunks: string[],
  piece: (text: string, done: boolean) => unknown,
  o: { delay: number; beforeChunk?: (index: number) => Promise<void> },
): Response {
  const encoder = new TextEncoder();
  const line = (value: unknown) => encoder.encode(goJson(value) + "\n");
  const stream = new ReadableStream({
    async start(controller) {
      for (const [i, chunk] of chunks.entries()) {
        await o.beforeChunk?.(i);
        if (i > 0) await sleep(o.delay);
        controller.enqueue(line(piece(chunk, false)));
      }
      await o.beforeChunk?.(chunks.length);
      controller.enqueue(line(piece("", true)));
      controller.close();
    },
  });
  return new Response(stream, { headers: { "content-type": "application/x-ndjson" } });
}

/** The scripted reply for this conversation, if its first user message names a script. */
function scriptedReply(scripts: OllamaTestServerOptions["scripts"], messages: ChatMessage[]) {
  const goal = messages.find((m) => m.role === "user")?.content ?? "";
  const marker = Object.keys(scripts ?? {}).find((k) => goal.includes(k));
  if (marker === undefined) return undefined;
  const turn = messages.filter((m) => m.role === "assistant").length;
  const reply = scripts![marker]![turn] ?? { content: SCRIPT_DONE };
  return typeof reply === "function" ? reply(messages) : reply;
}

export async function startOllamaTestServer(opts: OllamaTestServerOptions = {}): Promise<OllamaTestServer> {
  const models = opts.models ?? ["qwen3.5:0.8b"];
  const now = opts.now ?? (() => new Date());
  const delay = opts.chunkDelayMs ?? 0;
  const requests: RecordedRequest[] = [];

  const answer = async (kind: "generate" | "chat", body: ApiBody): Promise<Response> => {
    if (!body.model) return json({ error: "model is required" }, 400);
    if (!models.includes(body.model))
      return json({ error: `model "${body.model}" not found, try pulling it first` }, 404);
    await opts.beforeReply?.();
    const scripted = kind === "chat" ? scriptedReply(opts.scripts, body.messages ?? []) : undefined;
    if (scripted) {
      await sleep(delay);
      if (scripted.status) return json({ error: scripted.error ?? "scripted failure" }, scripted.status);
      return json({
        ...assistantReplyBody(body.model!, scripted, now()),
        total_duration: 0,
        prompt_eval_count: scripted.prompt_eval_count ?? 0,
        eval_count: scripted.eval_count ?? 0,
      });
    }
    const prompt =
      kind === "generate" ? (body.prompt ?? "") : (body.messages?.findLast((m) => m.role === "user")?.content ?? "");
    const piece = (text: string, done: boolean) => ({
      model: body.model,
      created_at: now().toISOString(),
      ...(kind === "generate" ? { response: text } : { message: { role: "assistant", content: text } }),
      done,
      ...(done ? { done_reason: "stop", total_duration: 0, eval_count: 0 } : {}),
    });
    const reply = testReply(prompt);
    if (body.stream === false) {
      await sleep(delay);
      return json(piece(reply, true));
    }
    return streamedReply(replyChunks(reply), piece, { delay, beforeChunk: opts.beforeChunk });
  };

  const fetch = async (req: Request): Promise<Response> => {
    const path = new URL(req.url).pathname;
    const text = await req.text();
    requests.push({ method: req.method, path, headers: Object.fromEntries(req.headers), body: text });
    const route = `${req.method} ${path}`;
    if (route === "GET /" || route === "HEAD /") return new Response("Ollama is running");
    if (route === "GET /api/version") return json({ version: TEST_SERVER_VERSION });
    if (route === "GET /api/tags") return json(tagsBody(models, now()));
    if (route === "GET /v1/models") {
      const created = Math.floor(now().getTime() / 1000);
      return json({
        object: "list",
        data: models.map((id) => ({ id, object: "model", created, owned_by: "library" })),
      });
    }
    if (route === "POST /api/generate" || route === "POST /api/chat") {
      let body: ApiBody;
      try {
        body = JSON.parse(text) as ApiBody;
      } catch {
        return json({ error: "invalid JSON body" }, 400);
      }
      const agentReply = route === "POST /api/chat" ? chatAgentReply(opts.chatAgentScripts, body, models) : undefined;
      if (agentReply) return agentReply;
      return answer(route === "POST /api/generate" ? "generate" : "chat", body);
    }
    return new Response("404 page not found", { status: 404 });
  };

  const servers: Bun.Server<undefined>[] = [];
  if (opts.port !== undefined || !opts.socket) {
    servers.push(Bun.serve({ hostname: opts.hostname ?? "127.0.0.1", port: opts.port ?? 0, fetch }));
  }
  if (opts.socket) {
    await rm(opts.socket, { force: true });
    servers.push(Bun.serve({ unix: opts.socket, fetch }));
    await chmod(opts.socket, 0o666);
  }
  const tcp = servers.find((s) => s.port !== undefined);
  return {
    url: tcp ? `http://${tcp.hostname}:${tcp.port}` : undefined,
    socket: opts.socket,
    requests,
    async stop() {
      await Promise.all(servers.map((s) => s.stop(true)));
    },
  };
}

// ---- chat agent scripts (the orchestrator's `cynodeai.pm` tool-calling loop) ----

export type ChatAgentMessage = { role?: string; content?: string; tool_name?: string };
/** One scripted turn: tool calls or a final answer; a function sees the conversation (to use a tool's answer). */
export type ChatAgentTurn =
  | ChatAgentReply
  | ((messages: ChatAgentMessage[]) => ChatAgentReply | Promise<ChatAgentReply>);
/** `error`: the double answers it with a 500, as Ollama does when the model fails. */
type ChatAgentReply = { content?: string; tool_calls?: { name: string; arguments: unknown }[]; error?: string };

/**
 * The scripted answer when the conversation's last user message holds a script's marker: the n-th turn answers
 * the n-th model turn since that message (so a thread's earlier turns do not count). Always one whole answer.
 */
function chatAgentReply(
  scripts: Record<string, ChatAgentTurn[]> | undefined,
  body: { model?: string; messages?: ChatAgentMessage[] },
  models: string[],
): Promise<Response> | undefined {
  const messages = body.messages ?? [];
  const lastUser = messages.findLastIndex((m) => m.role === "user");
  const said = messages[lastUser]?.content ?? "";
  const marker = Object.keys(scripts ?? {}).find((k) => said.includes(k));
  if (marker === undefined || !models.includes(body.model ?? "")) return undefined;
  const turn = messages.slice(lastUser).filter((m) => m.role === "assistant").length;
  const scripted = scripts![marker]![turn] ?? { content: "script done" };
  const reply = async () => (typeof scripted === "function" ? await scripted(messages) : scripted);
  return reply().then((r) => (r.error ? json({ error: r.error }, 500) : json(assistantReplyBody(body.model!, r))));
}

/** A finished Ollama `/api/chat` answer of the assistant: `reply`'s text and tool calls, made `at`. */
function assistantReplyBody(model: string, reply: ChatAgentReply, at = new Date()) {
  return {
    model,
    created_at: at.toISOString(),
    message: {
      role: "assistant",
      content: reply.content ?? "",
      ...(reply.tool_calls ? { tool_calls: reply.tool_calls.map((f) => ({ function: f })) } : {}),
    },
    done: true,
    done_reason: "stop",
  };
}
