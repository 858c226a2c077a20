/**
 * The OpenAI-compatible surface (`GET /v1/models`, `POST /v1/chat/completions`): what Open WebUI, the `openai` SDKs
 * and cynork speak. Errors here are OpenAI's error objects, never problem+json, as OpenAI clients expect.
 */
import { Hono } from "hono";
import { OpenAIError } from "../../contracts/openai";
import { USER_API } from "../../contracts/routes";
import { limitBody } from "../../lib/api-app";
import { describeRoute } from "../../lib/openapi";
import { createInFlightCounts } from "../chat/in-flight-counts";
import { createUserRateLimit } from "../chat/user-rate-limit";
import { chatCompletion, DEFAULT_AGENT_LEASE_MS, type ChatContext, type OpenAIChatOptions } from "./chat-completion";
import { startAgentResumer } from "../pm/agent-resumer";
import { createChatNodes } from "./chat-nodes";
import { OpenAIApiError, openaiErrorHandler } from "./openai-errors";
import { requireUser, type GatewayEnv } from "./require-user";
import type { TaskDeps } from "./tasks";
import { chatThreadRoutes } from "./chat-threads";
import { pmCompletion } from "../pm/pm-completion";
import { withAgentModel } from "../pm/agent-model";

export type OpenAIDeps = TaskDeps & { maxBodyBytes: number; chat: OpenAIChatOptions };

const { models: MODELS, chatCompletions: CHAT } = USER_API;
const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, OpenAIError]));
const DOCS = {
  models: describeRoute(MODELS, {
    summary: "Models of the live inference nodes (OpenAI list format)",
    tags: ["openai"],
    responses: errors(401),
  }),
  chat: describeRoute(CHAT, {
    summary: "Chat completion (OpenAI format; `stream: true` answers server-sent chat.completion.chunk events)",
    tags: ["openai"],
    responses: errors(400, 401, 404, 413, 429, 502, 503, 504),
  }),
};

export function openaiRoutes(deps: OpenAIDeps) {
  const { db, tokens, log, now, maxBodyBytes, chat } = deps;
  const nodes = createChatNodes({ db, now, defaultModel: chat.defaultModel, maxReportAgeMs: chat.maxReportAgeMs });
  const d: ChatContext = {
    db,
    log,
    now,
    chat,
    nodes,
    limiter: createUserRateLimit(chat.rateLimitPerMinute ?? 60),
    users: createInFlightCounts(),
  };
  const runs = chat.agentRuns;
  const pm = {
    chat: d,
    tasks: deps,
    runs: {
      holder: runs?.holder ?? `gateway-${crypto.randomUUID()}`,
      leaseMs: runs?.leaseMs ?? DEFAULT_AGENT_LEASE_MS,
    },
  };
  d.agent = (c, req) => pmCompletion(pm, c, req);
  if (runs?.signal) startAgentResumer(pm, runs.resumeEveryMs ?? pm.runs.leaseMs / 2, runs.signal);
  const tooLarge = () => new OpenAIApiError(413, "Request body exceeds maximum size", "request_too_large");
  return new Hono<GatewayEnv>()
    .get(MODELS.pattern, DOCS.models, requireUser(tokens), async (c) => c.json(withAgentModel(await nodes.models())))
    .post(CHAT.pattern, DOCS.chat, requireUser(tokens), limitBody(maxBodyBytes, tooLarge), (c) => chatCompletion(d, c))
    .use(USER_API.createThread.pattern, limitBody(maxBodyBytes, tooLarge))
    .route("/", chatThreadRoutes(deps))
    .onError(openaiErrorHandler(log));
}
