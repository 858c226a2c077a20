/**
 * `POST /v1/chat/completions`: admitted (rate limit, the user's chats in flight, request shape), sent to the least
 * loaded live node that has the model over its Worker API, answered as one `chat.completion` or as SSE chunks. Every
 * request writes one audit row, and releases what it holds (its user's and its node's in-flight counts) however it ends.
 */
import type { Context } from "hono";
import * as v from "valibot";
import { PM_MODEL } from "../../contracts/chat-agent";
import type { ChatCompletionRequest } from "../../contracts/openai";
import { USER_API, WORKER_API } from "../../contracts/routes";
import { clientAddress } from "../../lib/client-address";
import type { Logger } from "../../lib/log";
import type { InFlightCounts } from "../chat/in-flight-counts";
import { chatOnNode } from "../chat/node-chat";
import { toCompletion, toOllamaChat, type CompletionMeta } from "../chat/ollama-chat";
import { sseCompletion } from "../chat/sse-completion";
import type { UserRateLimit } from "../chat/user-rate-limit";
import { recordChatRequest } from "../db/chat-audit";
import type { Db } from "../db/connect";
import type { ChatNodes } from "./chat-nodes";
import { asOpenAIError, OpenAIApiError } from "./openai-errors";
import type { GatewayEnv } from "./require-user";

export type OpenAIChatOptions = {
  /** Opens a node's sealed Worker API token. */
  openToken: (sealed: string) => string;
  /** The model a request naming none prefers (`INFERENCE_MODEL`), when a live node serves it. */
  defaultModel: string;
  rateLimitPerMinute?: number;
  /** Chats one user may have in flight on this gateway (`CHAT_MAX_IN_FLIGHT_PER_USER`); beyond, 429. */
  maxInFlightPerUser?: number;
  /** Tokens a completion may generate (`CHAT_MAX_TOKENS`): a larger or missing `max_tokens` becomes this. */
  maxTokens?: number;
  /** Whole-request deadline, as the inference proxy's. */
  timeoutMs?: number;
  maxReportAgeMs?: number;
  fetch?: typeof fetch;
  /** The chat agent's durable runs (decision 26): this orchestrator's holder id, the lease, the resumer. */
  agentRuns?: AgentRunSettings;
};

export type AgentRunSettings = {
  holder?: string;
  /** `CHAT_AGENT_LEASE_DURATION`: how long a dead orchestrator's run waits before another takes it over. */
  leaseMs?: number;
  /** Looks for orphaned runs every this often until `signal` aborts; no signal: no resumer. */
  resumeEveryMs?: number;
  signal?: AbortSignal;
};

export const DEFAULT_AGENT_LEASE_MS = 60_000;

export type ChatContext = {
  db: Db;
  log: Logger;
  now: () => Date;
  chat: OpenAIChatOptions;
  limiter: UserRateLimit;
  nodes: ChatNodes;
  /** Chats in flight by user id. */
  users: InFlightCounts;
  /** Answers a request for the chat agent's model (`cynodeai.pm`); `ended` says how it ended, for the audit row. */
  agent?: (
    c: Context<GatewayEnv>,
    req: ChatCompletionRequest,
  ) => Promise<{ response: Response; ended: Promise<string> }>;
};

export const CHAT_TIMEOUT_MS = 120_000;
export const DEFAULT_CHAT_MAX_IN_FLIGHT_PER_USER = 4;
export const DEFAULT_CHAT_MAX_TOKENS = 4096;

/** What the audit row says about the request, filled in as it is learned. */
type Entry = { userId: string; model: string; nodeId: string | null; stream: boolean; messageCount: number };

export async function chatCompletion(d: ChatContext, c: Context<GatewayEnv>): Promise<Response> {
  const started = performance.now();
  const user = c.get("user");
  const entry: Entry = { userId: user.id, model: "", nodeId: null, stream: false, messageCount: 0 };
  const audit = (statusCode: number, outcome: string) =>
    recordChatRequest(d.db, {
      ...entry,
      statusCode,
      outcome,
      durationMs: performance.now() - started,
      ip: clientAddress(c),
    }).catch((err) => d.log.warn("chat audit row not written", { error: (err as Error).message }));
  const held: (() => void)[] = [];
  const release = () => {
    for (const r of held.splice(0)) r();
  };
  // Set once a stream owns the request: from then on the stream's end releases it, on every other path `finally`.
  let streaming = false;
  try {
    const req = await admit(d, c, entry, held);
    if (entry.model === PM_MODEL && d.agent) {
      const answer = await d.agent(c, req);
      streaming = true;
      void answer.ended.then((outcome) => {
        release();
        void audit(200, outcome);
      });
      return answer.response;
    }
    const { model, nodes: candidates } = await d.nodes.candidatesFor(entry.model || undefined);
    entry.model = model;
    const deadline = AbortSignal.timeout(d.chat.timeoutMs ?? CHAT_TIMEOUT_MS);
    const upstream = new AbortController();
    const maxTokens = d.chat.maxTokens ?? DEFAULT_CHAT_MAX_TOKENS;
    const sent = await chatOnNode(candidates, toOllamaChat(req, entry.model, entry.stream, maxTokens), {
      openToken: d.chat.openToken,
      signal: AbortSignal.any([c.req.raw.signal, deadline, upstream.signal]),
      log: d.log,
      fetch: d.chat.fetch,
    });
    if (sent.kind !== "answered") throw failure(sent.kind === "aborted" ? signalError(deadline) : sent.error);
    entry.nodeId = sent.node.id;
    held.push(d.nodes.hold(sent.node.id));
    if (!sent.res.ok) throw await nodeRefusal(sent.res, entry.model);
    const meta: CompletionMeta = {
      id: `chatcmpl-${crypto.randomUUID()}`,
      created: Math.floor(d.now().getTime() / 1000),
      model: entry.model,
    };
    d.log.info("chat completion", { user_id: user.id, model: entry.model, node_slug: sent.node.slug });
    if (entry.stream) {
      streaming = true;
      return sseCompletion(sent.res.body!, meta, {
        abort: () => upstream.abort(),
        onEnd: (outcome) => {
          release();
          void audit(200, outcome);
        },
      });
    }
    const answer = await readAnswer(sent.res, deadline);
    await audit(200, "completed");
    return c.json(toCompletion(answer, meta));
  } catch (err) {
    const e = asOpenAIError(err);
    await audit(e?.status ?? 500, e?.code ?? "cynodeai_internal_error");
    throw err;
  } finally {
    if (!streaming) release();
  }
}

/**
 * The rate limit, the user's chats in flight (the hold goes into `held`), then the request's shape; fills in what
 * the audit row says about it.
 */
async function admit(
  d: ChatContext,
  c: Context<GatewayEnv>,
  entry: Entry,
  held: (() => void)[],
): Promise<ChatCompletionRequest> {
  const taken = d.limiter.take(entry.userId, d.now());
  if (!taken.ok)
    throw new OpenAIApiError(429, "Rate limit reached for chat requests", "rate_limit_exceeded", null, {
      "retry-after": String(taken.retryAfterSeconds),
    });
  const max = d.chat.maxInFlightPerUser ?? DEFAULT_CHAT_MAX_IN_FLIGHT_PER_USER;
  const hold = d.users.tryHold(entry.userId, max);
  if (!hold)
    throw new OpenAIApiError(
      429,
      `Too many chat requests in flight (at most ${max} per user); retry when one has finished`,
      "rate_limit_exceeded",
      null,
      { "retry-after": "1" },
    );
  held.push(hold);
  const raw: unknown = await c.req.json().catch(() => undefined);
  const parsed = v.safeParse(USER_API.chatCompletions.body, raw);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const param = issue.path?.map((p) => String(p.key)).join(".") || null;
    throw new OpenAIApiError(400, raw === undefined ? "Invalid request body" : issue.message, "invalid_request", param);
  }
  const req = parsed.output;
  // Empty until the router picks one (chat-nodes: the default when served, else a served model).
  entry.model = req.model?.trim() ?? "";
  entry.stream = req.stream === true;
  entry.messageCount = req.messages.length;
  return req;
}

export function signalError(deadline: AbortSignal): OpenAIApiError {
  return deadline.aborted
    ? new OpenAIApiError(504, "The completion did not finish in time", "cynodeai_completion_timeout")
    : new OpenAIApiError(408, "The request was cancelled", "cynodeai_request_cancelled");
}

export function failure(e: OpenAIApiError | string): OpenAIApiError {
  if (e instanceof OpenAIApiError) return e;
  return new OpenAIApiError(502, `No node answered the inference request (${e})`, "cynodeai_inference_failed");
}

/** A node's non-2xx answer: Ollama's 404 means the model is gone from that node; anything else is a 502. */
export async function nodeRefusal(res: Response, model: string): Promise<OpenAIApiError> {
  const text = await res.text().catch(() => "");
  if (res.status === 404 && /model/i.test(text))
    return new OpenAIApiError(404, `The model '${model}' does not exist`, "model_not_found", "model");
  return new OpenAIApiError(502, `Inference failed on the node (status ${res.status})`, "cynodeai_inference_failed");
}

export async function readAnswer(res: Response, deadline: AbortSignal) {
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
  const parsed = v.safeParse(WORKER_API.inferenceChat.response, raw);
  if (!parsed.success || parsed.output.error)
    throw new OpenAIApiError(502, "Inference failed on the node", "cynodeai_inference_failed");
  return parsed.output;
}
