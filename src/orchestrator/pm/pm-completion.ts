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
import { asOpenAIError } from "../gateway/openai-errors";
import type { GatewayEnv } from "../gateway/require-user";
import { AGENT_RUN_KIND, beginAgentRun } from "./agent-runs";
import { workOn, type PmDeps } from "./agent-work";
import { chatThread, projectOf, threadContext } from "./chat-thread";
import { systemMessage } from "./instructions";
import { nodeModel } from "./node-model";

/** The agent's whole-answer deadline: its tasks run meanwhile, so longer than a plain chat's. */
export const PM_TIMEOUT_MS = 10 * 60_000;

/** The answer, and how it ended once it has (for the audit row): at once unless streamed. */
export type PmAnswer = { response: Response; ended: Promise<string> };

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
  const run = await beginAgentRun(db, d.runs, {
    kind: AGENT_RUN_KIND,
    user,
    project_id: projectId,
    thread_id: thread.id,
    messages: [{ role: "system", content: systemMessage({ skills, projectId }) }, ...context],
  });
  const meta: CompletionMeta = {
    id: `chatcmpl-${crypto.randomUUID()}`,
    created: Math.floor(d.chat.now().getTime() / 1000),
    model: PM_MODEL,
  };
  const headers = { [THREAD_HEADER]: thread.id };
  d.chat.log.info("chat agent", { user_id: user.id, thread_id: thread.id, run_id: run.id, model: model.model });
  const work = (progress: (text: string) => void) => workOn(d, run, model, { progress, signal });
  if (req.stream !== true) {
    const answer = await work(() => {});
    const body = toCompletion({ message: { content: answer }, done: true }, meta);
    return { response: Response.json(body, { headers }), ended: Promise.resolve("completed") };
  }
  return streamed(meta, headers, work, () => upstream.abort());
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
