/**
 * `POST /v1/worker/inference:chat` (bearer-protected): the orchestrator's way to the node's model for the gateway's
 * OpenAI-compatible chat. The body is an Ollama `/api/chat` request; it goes to Ollama through the node's existing
 * inference relay socket (no new network exposure) and Ollama's answer streams back as is. The orchestrator is trusted
 * with the node's models, but its generation options are clamped to the node's limits as a sandbox's are.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { WORKER_API } from "../../contracts/routes";
import { INFERENCE_ROUTES } from "../../contracts/inference-api";
import { MAX_REQUEST_BODY_BYTES } from "../../contracts/route";
import { limitBody } from "../../lib/api-app";
import { clampInferenceOptions, DEFAULT_INFERENCE_LIMITS, type InferenceLimits } from "../../lib/inference-request";
import { ProblemError } from "../../lib/http-problem";
import type { Logger } from "../../lib/log";
import { describeRoute } from "../../lib/openapi";
import { validated } from "../../lib/validate";

/** As the inference-proxy's limits: 10 MiB bodies (MAX_REQUEST_BODY_BYTES), 120 s per request. */
export const CHAT_TIMEOUT_MS = 120_000;
const CHAT_ROUTE = INFERENCE_ROUTES["POST /api/chat"]!;

export type InferenceChatDeps = {
  auth: MiddlewareHandler;
  /** The relay's Unix socket to Ollama, or undefined while the node has no inference running. */
  relaySocket: () => string | undefined;
  log: Logger;
  timeoutMs?: number;
  limits?: InferenceLimits;
};

export function inferenceChatRoutes({
  auth,
  relaySocket,
  log,
  timeoutMs = CHAT_TIMEOUT_MS,
  limits = DEFAULT_INFERENCE_LIMITS,
}: InferenceChatDeps) {
  const CHAT = WORKER_API.inferenceChat;
  const limit = limitBody(MAX_REQUEST_BODY_BYTES);
  const doc = describeRoute(CHAT, {
    summary: "Chat with the node's Ollama (its /api/chat, streamed as NDJSON when asked)",
    tags: ["inference"],
    problems: [400, 401, 413, 502, 503],
  });
  const running: MiddlewareHandler = async (_c, next) => {
    if (!relaySocket()) throw new ProblemError(503, "Inference is not running on this node");
    await next();
  };
  return new Hono().post(CHAT.pattern, doc, auth, limit, running, validated("json", CHAT.body), async (c) => {
    const socket = relaySocket()!;
    const body = clampInferenceOptions(c.req.valid("json"), CHAT_ROUTE, limits);
    if (typeof body === "string") throw new ProblemError(400, body);
    let res: Response;
    try {
      res = await fetch("http://ollama/api/chat", {
        unix: socket,
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        // The orchestrator hanging up stops the model too.
        signal: AbortSignal.any([c.req.raw.signal, AbortSignal.timeout(timeoutMs)]),
        timeout: false,
      });
    } catch (err) {
      log.warn("inference chat: relay request failed", { error: (err as Error).message });
      throw new ProblemError(502, "Inference upstream unreachable");
    }
    const type = res.headers.get("content-type") ?? "application/json";
    return new Response(res.body, { status: res.status, headers: { "content-type": type } });
  });
}
