/**
 * The inference proxy: `/healthz` answered itself, every other request spliced to the upstream Ollama under a body
 * limit (413) and a per-request deadline (504), with 502 when the upstream cannot be reached (see splice.ts).
 */
import type { Logger } from "../lib/log";
import type { SpliceOptions } from "../lib/http-splice";
import type { Upstream } from "../lib/http-upstream";

export const MAX_BODY_BYTES = 10 * 1024 * 1024;
export const REQUEST_TIMEOUT_MS = 120_000;

export type ProxyOptions = {
  upstream: Upstream;
  log: Logger;
  maxBodyBytes?: number;
  /** Deadline for the whole exchange, response body included. */
  timeoutMs?: number;
};

const HEALTHY = { status: 200, type: "text/plain; charset=UTF-8", body: "ok" };

export function createProxy(opts: ProxyOptions): SpliceOptions {
  return {
    upstream: opts.upstream,
    log: opts.log,
    maxBodyBytes: opts.maxBodyBytes ?? MAX_BODY_BYTES,
    timeoutMs: opts.timeoutMs ?? REQUEST_TIMEOUT_MS,
    local: (method, path) => (path === "/healthz" && (method === "GET" || method === "HEAD") ? HEALTHY : undefined),
  };
}
