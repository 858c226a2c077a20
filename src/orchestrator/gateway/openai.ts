/**
 * The OpenAI-compatible surface (`GET /v1/models`, `POST /v1/chat/completions`): what Open WebUI, the `openai` SDKs
 * and cynork speak. A chat goes to the least loaded live node that has the model, over the Worker API, and comes
 * back as one `chat.completion` or as SSE `chat.completion.chunk`s ending with `data: [DONE]`.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import * as v from "valibot";
import {
  ChatCompletion,
  ChatCompletionRequest,
  ModelList,
  OllamaChatResponse,
  OPENAI_API,
  OpenAIError,
} from "../../contracts/openai";
import { clientAddress } from "../../lib/client-address";
import type { Logger } from "../../lib/log";
import { describeRoute } from "../../lib/openapi";
import type { Tokens } from "../auth/tokens";
import { liveInferenceNodes, type InferenceNode } from "../chat/live-nodes";
import { chatOnNode } from "../chat/node-chat";
import { toCompletion, toOllamaChat, type CompletionMeta } from "../chat/ollama-chat";
import { sseCompletion } from "../chat/sse-completion";
import { createUserRateLimit } from "../chat/user-rate-limit";
import { recordChatRequest } from "../db/chat-audit";
import type { Db } from "../db/connect";
import { asOpenAIError, OpenAIApiError, openaiErrorHandler } from "./openai-errors";
import { requireUser, type GatewayEnv } from "./require-user";

export type OpenAIChatOptions = {
  /** Opens a node's sealed Worker API token. */
  openToken: (sealed: string) => string;
  /** The model of a request that names none (`INFERENCE_MODEL`). */
  defaultModel: string;
  rateLimitPerMinute?: number;
  /** Whole-request deadline, as the inference proxy's. */
  timeoutMs?: number;
  maxReportAgeMs?: number;
  fetch?: typeof fetch;
};

export type OpenAIDeps = {
  db: Db;
  tokens: Tokens;
  log: Logger;
  now: () => Date;
  maxBodyBytes: number;
  chat: OpenAIChatOptions;
};

export const CHAT_TIMEOUT_MS = 120_000;

/** Live nodes' models plus the default, sorted; `created` is when a node last reported having it. */
export function modelList(nodes: InferenceNode[], defaultModel: string, now: Date): ModelList {
  const seen = new Map<string, number>([[defaultModel, Math.floor(now.getTime() / 1000)]]);
  for (const n of nodes) for (const id of n.models) seen.set(id, Math.floor(n.reportedAt.getTime() / 1000));
  return {
    object: "list",
    data: [...seen]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([id, created]) => ({
        id,
        object: "model" as const,
        created,
        owned_by: "cynodeai",
      })),
  };
}

async function parseRequest(raw: unknown) {
  const parsed = v.safeParse(ChatCompletionRequest, raw);
  if (parsed.success) return parsed.output;
  const issue = parsed.issues[0];
  const param = issue.path?.map((p) => String(p.key)).join(".") || null;
  throw new OpenAIApiError(400, raw === undefined ? "Invalid request body" : issue.message, "invalid_request", param);
}

// Errors on these routes are OpenAI's error objects, not problem+json, as OpenAI clients expect.
const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, OpenAIError]));
const DOCS = {
  models: describeRoute({
    summary: "Models of the live inference nodes (OpenAI list format)",
    tags: ["openai"],
    auth: true,
    responses: { 200: ModelList, ...errors(401) },
  }),
  chat: describeRoute({
    summary: "Chat completion (OpenAI format; `stream: true` answers server-sent chat.completion.chunk events)",
    tags: ["openai"],
    auth: true,
    body: ChatCompletionRequest,
    responses: {
      200: ChatCompletion,
      ...errors(400, 401, 404, 413, 429, 502, 503, 504),
    },
  }),
};

export function openaiRoutes({ db, tokens, log, now, maxBodyBytes, chat }: OpenAIDeps) {
  const limiter = createUserRateLimit(chat.rateLimitPerMinute ?? 60);
  const inFlight = new Map<string, number>();
  const load = (n: InferenceNode) => n.runningJobs + (inFlight.get(n.id) ?? 0);
  const live = () => liveInferenceNodes(db, { now: now(), maxReportAgeMs: chat.maxReportAgeMs });
  const limit = bodyLimit({
    maxSize: maxBodyBytes,
    onError: () => {
      throw new OpenAIApiError(413, "Request body exceeds maximum size", "request_too_large");
    },
  });

  /** Picks the nodes for `model`, least loaded first; 404 for a model no one offers, 503 when no node can serve. */
  async function candidatesFor(model: string): Promise<InferenceNode[]> {
    const nodes = await live();
    if (!nodes.length) throw new OpenAIApiError(503, "No live node runs inference", "cynodeai_no_inference_node");
    if (!modelList(nodes, chat.defaultModel, now()).data.some((m) => m.id === model))
      throw new OpenAIApiError(404, `The model '${model}' does not exist`, "model_not_found", "model");
    const having = nodes.filter((n) => n.models.includes(model)).sort((a, b) => load(a) - load(b));
    if (!having.length)
      throw new OpenAIApiError(503, `No live node has the model '${model}'`, "cynodeai_no_inference_node");
    return having;
  }

  return new Hono<GatewayEnv>()
    .get(OPENAI_API.models, DOCS.models, requireUser(tokens), async (c) =>
      c.json(modelList(await live(), chat.defaultModel, now())),
    )
    .post(OPENAI_API.chatCompletions, DOCS.chat, requireUser(tokens), limit, async (c) => {
      const started = performance.now();
      const user = c.get("user");
      const entry = { userId: user.id, model: "", nodeId: null as string | null, stream: false, messageCount: 0 };
      const audit = (statusCode: number, outcome: string) =>
        recordChatRequest(db, {
          ...entry,
          statusCode,
          outcome,
          durationMs: performance.now() - started,
          ip: clientAddress(c),
        }).catch((err) => log.warn("chat audit row not written", { error: (err as Error).message }));
      let release = () => {};
      try {
        const taken = limiter.take(user.id, now());
        if (!taken.ok)
          throw new OpenAIApiError(429, "Rate limit reached for chat requests", "rate_limit_exceeded", null, {
            "retry-after": String(taken.retryAfterSeconds),
          });
        const req = await parseRequest(await c.req.json().catch(() => undefined));
        entry.model = req.model?.trim() || chat.defaultModel;
        entry.stream = req.stream === true;
        entry.messageCount = req.messages.length;
        const candidates = await candidatesFor(entry.model);
        const deadline = AbortSignal.timeout(chat.timeoutMs ?? CHAT_TIMEOUT_MS);
        const upstream = new AbortController();
        const signal = AbortSignal.any([c.req.raw.signal, deadline, upstream.signal]);
        const sent = await chatOnNode(candidates, toOllamaChat(req, entry.model, entry.stream), {
          openToken: chat.openToken,
          signal,
          log,
          fetch: chat.fetch,
        });
        if (sent.kind !== "answered") throw failure(sent.kind === "aborted" ? signalError(deadline) : sent.error);
        entry.nodeId = sent.node.id;
        inFlight.set(sent.node.id, (inFlight.get(sent.node.id) ?? 0) + 1);
        release = () => {
          release = () => {};
          inFlight.set(sent.node.id, (inFlight.get(sent.node.id) ?? 1) - 1);
        };
        if (!sent.res.ok) throw await nodeRefusal(sent.res, entry.model);
        const meta: CompletionMeta = {
          id: `chatcmpl-${crypto.randomUUID()}`,
          created: Math.floor(now().getTime() / 1000),
          model: entry.model,
        };
        log.info("chat completion", { user_id: user.id, model: entry.model, node_slug: sent.node.slug });
        if (entry.stream)
          return sseCompletion(sent.res.body!, meta, {
            abort: () => upstream.abort(),
            onEnd: (outcome) => {
              release();
              void audit(200, outcome);
            },
          });
        const answer = await readAnswer(sent.res, deadline);
        await audit(200, "completed");
        return c.json(toCompletion(answer, meta));
      } catch (err) {
        const e = asOpenAIError(err);
        await audit(e?.status ?? 500, e?.code ?? "cynodeai_internal_error");
        throw err;
      } finally {
        if (!entry.stream) release();
      }
    })
    .onError(openaiErrorHandler(log));
}

function signalError(deadline: AbortSignal): OpenAIApiError {
  return deadline.aborted
    ? new OpenAIApiError(504, "The completion did not finish in time", "cynodeai_completion_timeout")
    : new OpenAIApiError(408, "The request was cancelled", "cynodeai_request_cancelled");
}

function failure(e: OpenAIApiError | string): OpenAIApiError {
  if (e instanceof OpenAIApiError) return e;
  return new OpenAIApiError(502, `No node answered the inference request (${e})`, "cynodeai_inference_failed");
}

/** A node's non-2xx answer: Ollama's 404 means the model is gone from that node; anything else is a 502. */
async function nodeRefusal(res: Response, model: string): Promise<OpenAIApiError> {
  const text = await res.text().catch(() => "");
  if (res.status === 404 && /model/i.test(text))
    return new OpenAIApiError(404, `The model '${model}' does not exist`, "model_not_found", "model");
  return new OpenAIApiError(502, `Inference failed on the node (status ${res.status})`, "cynodeai_inference_failed");
}

async function readAnswer(res: Response, deadline: AbortSignal) {
  let raw: unknown;
  try {
    raw = await res.json();
  } catch (err) {
    if (deadline.aborted) throw signalError(deadline);
    throw new OpenAIApiError(
      502,
      `Inference answer unreadable: ${(err as Error).message}`,
      "cynodeai_inference_failed",
    );
  }
  const parsed = v.safeParse(OllamaChatResponse, raw);
  if (!parsed.success || parsed.output.error)
    throw new OpenAIApiError(502, "Inference failed on the node", "cynodeai_inference_failed");
  return parsed.output;
}
