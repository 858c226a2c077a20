/**
 * `POST /v1/chat/completions` with `model: cynodeai.pm` (decision 26): the chat agent runs in this orchestrator as
 * the chatting user. The request's thread and context are resolved, its new turn stored; the tool-calling loop runs
 * on a live node's model; the answer is stored on the thread and sent as one `chat.completion`, or streamed (SSE)
 * with each tool call as a line of progress text before the answer. The thread's id comes back in a header.
 */
import type { Context } from "hono";
import { PM_MODEL, PROJECT_HEADER, THREAD_HEADER } from "../../contracts/chat-agent";
import { SSE_DONE, type ChatCompletionRequest } from "../../contracts/openai";
import { toChunk, toCompletion, type CompletionMeta } from "../chat/ollama-chat";
import { visibleSkills } from "../db/skills";
import { appendMessage } from "../db/chat-threads";
import type { ChatContext } from "../gateway/chat-completion";
import { asOpenAIError } from "../gateway/openai-errors";
import type { GatewayEnv } from "../gateway/require-user";
import type { TaskDeps } from "../gateway/tasks";
import { runAgentLoop } from "./agent-loop";
import { chatThread, projectOf, threadContext } from "./chat-thread";
import { systemMessage } from "./instructions";
import { nodeModel } from "./node-model";
import { withAgentModel } from "./agent-model";
import { recordedCall } from "./recorded-call";

/** Model turns one answer may take. */
export const MAX_AGENT_TURNS = 8;
/** The agent's whole-answer deadline: its tasks run meanwhile, so longer than a plain chat's. */
export const PM_TIMEOUT_MS = 10 * 60_000;

export type PmDeps = { chat: ChatContext; tasks: TaskDeps };
/** The answer, and how it ended once it has (for the audit row): at once unless streamed. */
export type PmAnswer = { response: Response; ended: Promise<string> };

export const progressLine = (name: string, args: unknown) => `> ${name} ${JSON.stringify(args ?? {})}\n\n`;

export async function pmCompletion(d: PmDeps, c: Context<GatewayEnv>, req: ChatCompletionRequest): Promise<PmAnswer> {
  const user = c.get("user");
  const db = d.chat.db;
  const projectId = projectOf(c.req.header(PROJECT_HEADER));
  const thread = await chatThread(db, {
    userId: user.id,
    projectId,
    threadId: c.req.header(THREAD_HEADER),
    now: d.chat.now(),
  });
  const context = await threadContext(db, thread, req);
  const upstream = new AbortController();
  const deadline = AbortSignal.timeout(PM_TIMEOUT_MS);
  const signal = AbortSignal.any([c.req.raw.signal, upstream.signal]);
  const model = await nodeModel(d.chat, signal, deadline);
  const skills = await visibleSkills(db, user.id);
  const tools = {
    tasks: d.tasks,
    user,
    projectId,
    models: async () => withAgentModel(await d.chat.nodes.models()),
    signal,
    threadId: thread.id,
  };
  const run = async (progress: (text: string) => void) => {
    const answer = await runAgentLoop([{ role: "system", content: systemMessage({ skills, projectId }) }, ...context], {
      ask: model.ask,
      call: (name, args) => recordedCall({ ...tools, log: d.chat.log }, name, args),
      onToolCall: (name, args) => progress(progressLine(name, args)),
      maxTurns: MAX_AGENT_TURNS,
    });
    await appendMessage(db, {
      threadId: thread.id,
      role: "assistant",
      content: answer,
      metadata: { model_id: PM_MODEL },
    });
    return answer;
  };
  const meta: CompletionMeta = {
    id: `chatcmpl-${crypto.randomUUID()}`,
    created: Math.floor(d.chat.now().getTime() / 1000),
    model: PM_MODEL,
  };
  const headers = { [THREAD_HEADER]: thread.id };
  d.chat.log.info("chat agent", { user_id: user.id, thread_id: thread.id, model: model.model });
  if (req.stream !== true) {
    const answer = await run(() => {});
    const body = toCompletion({ message: { content: answer }, done: true }, meta);
    return { response: Response.json(body, { headers }), ended: Promise.resolve("completed") };
  }
  return streamed(meta, headers, run, () => upstream.abort());
}

const event = (data: unknown) => `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;

/** The answer as SSE: the role chunk, progress lines as they happen, the answer, the finish chunk, `[DONE]`. */
function streamed(
  meta: CompletionMeta,
  headers: Record<string, string>,
  run: (progress: (text: string) => void) => Promise<string>,
  abort: () => void,
): PmAnswer {
  const encoder = new TextEncoder();
  let end: (outcome: string) => void = () => {};
  let canceled = false;
  const ended = new Promise<string>((resolve) => (end = resolve));
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      // After the client went away the agent's work still finishes (its tasks exist); nothing more is sent.
      const send = (data: unknown) => canceled || controller.enqueue(encoder.encode(event(data)));
      const content = (text: string) => send(toChunk(meta, { content: text }));
      send(toChunk(meta, { role: "assistant", content: "" }));
      try {
        content(await run(content));
        send(toChunk(meta, {}, { done: true }));
        end("completed");
      } catch (err) {
        const e = asOpenAIError(err);
        send({
          error: {
            message: e?.message ?? "Chat agent failed",
            type: "cynodeai_error",
            param: null,
            code: e?.code ?? "cynodeai_internal_error",
          },
        });
        end(e?.code ?? "cynodeai_internal_error");
      }
      send(SSE_DONE);
      if (!canceled) controller.close();
    },
    cancel() {
      canceled = true;
      end("canceled");
      abort();
    },
  });
  const sse = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", ...headers };
  return { response: new Response(stream, { headers: sse }), ended };
}
