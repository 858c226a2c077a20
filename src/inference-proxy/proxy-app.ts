/**
 * The inference proxy: `/healthz` answered itself; only the inference API (contracts/inference-api.ts) spliced to the
 * upstream Ollama, anything else 403. Model routes must name one of the job's allowed models (403 otherwise, 400 for
 * a body that is not JSON) and have their generation options clamped to the node's limits before they are forwarded;
 * model lists are filtered to the allowed models. Body limit 413, per-request deadline 504, 502 when the upstream
 * cannot be reached, 503 past the connection cap (see lib/http-splice.ts).
 */
import { decideInferenceRequest, type InferenceRoute } from "../contracts/inference-api";
import { MAX_REQUEST_BODY_BYTES } from "../contracts/route";
import type { Logger } from "../lib/log";
import {
  createConnectionSlots,
  problemAnswer,
  type Admission,
  type Answer,
  type SpliceOptions,
} from "../lib/http-splice";
import { upstreamTarget, type Upstream } from "../lib/http-upstream";
import {
  DEFAULT_INFERENCE_LIMITS,
  filterModelList,
  rewriteInferenceBody,
  type InferenceLimits,
} from "../lib/inference-request";

export const REQUEST_TIMEOUT_MS = 120_000;
/** Connections one sidecar (so one job) holds open at once. */
export const MAX_CONNECTIONS = 16;
/** A model list fetched for filtering is small; it gets this long. */
const LIST_TIMEOUT_MS = 10_000;

export type ProxyOptions = {
  upstream: Upstream;
  log: Logger;
  /** The models this job may name; `name` and `name:latest` match each other. */
  allowedModels: readonly string[];
  limits?: InferenceLimits;
  maxBodyBytes?: number;
  /** Deadline for the whole exchange, response body included. */
  timeoutMs?: number;
  maxConnections?: number;
};

const HEALTHY = { status: 200, type: "text/plain; charset=UTF-8", body: "ok" };

/** The upstream's model list with only the allowed models; 502 when it cannot be had or read. */
async function filteredList(
  opts: ProxyOptions,
  path: string,
  kind: "tags" | "models",
  timeoutMs: number,
): Promise<Answer> {
  const { url, unix } = upstreamTarget(opts.upstream, path);
  const res = await fetch(url, { unix, signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
  const text = await res.text();
  const body = res.status === 200 ? filterModelList(kind, text, opts.allowedModels) : undefined;
  if (body === undefined) {
    opts.log.warn("inference proxy: model list unreadable", { path, status: res.status });
    return problemAnswer(502, `the inference upstream's ${path} answer could not be read`);
  }
  return { status: 200, type: "application/json; charset=utf-8", body };
}

/** The decision on one request that is not `/healthz`. */
function admission(opts: ProxyOptions, method: string, target: string, headers: Headers): Admission {
  const decision = decideInferenceRequest(method, target);
  if (!decision.allowed) return { answer: problemAnswer(403, decision.detail) };
  const { path, route } = decision;
  if (method === "GET" && (headers.has("transfer-encoding") || Number(headers.get("content-length") ?? 0) > 0)) {
    return { answer: problemAnswer(400, "a GET request carries no body") };
  }
  if (route.kind === "tags" || route.kind === "models") {
    return { answer: filteredList(opts, path, route.kind, LIST_TIMEOUT_MS) };
  }
  if (route.kind === "plain") return { target: path };
  return { target: path, rewriteBody: (body) => rewritten(opts, body, route) };
}

function rewritten(opts: ProxyOptions, body: Uint8Array, route: InferenceRoute): Uint8Array | Answer {
  const policy = { allowedModels: opts.allowedModels, limits: opts.limits ?? DEFAULT_INFERENCE_LIMITS };
  const out = rewriteInferenceBody(body, route, policy);
  return out instanceof Uint8Array ? out : problemAnswer(out.status, out.detail);
}

export function createProxy(opts: ProxyOptions): SpliceOptions {
  return {
    upstream: opts.upstream,
    log: opts.log,
    maxBodyBytes: opts.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES,
    timeoutMs: opts.timeoutMs ?? REQUEST_TIMEOUT_MS,
    local: (method, path) => (path === "/healthz" && (method === "GET" || method === "HEAD") ? HEALTHY : undefined),
    admit: (method, target, headers) => admission(opts, method, target, headers),
    slots: createConnectionSlots(opts.maxConnections ?? MAX_CONNECTIONS),
  };
}
