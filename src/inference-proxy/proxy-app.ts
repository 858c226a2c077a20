/**
 * The inference proxy's HTTP app: `/healthz`, and every other request streamed to the upstream Ollama under a body
 * limit (413) and a per-request deadline (504), with 502 when the upstream cannot be reached.
 */
import { Hono } from "hono";
import { accessLog } from "../lib/access-log";
import { ProblemError, problemHandler } from "../lib/http-problem";
import type { Logger } from "../lib/log";
import { limitBody } from "./body-limit";
import { clientResponseHeaders, upstreamRequestHeaders } from "./forward-headers";
import { upstreamTarget, type Upstream } from "./upstream";

export const MAX_BODY_BYTES = 10 * 1024 * 1024;
export const REQUEST_TIMEOUT_MS = 120_000;

export type ProxyOptions = {
  upstream: Upstream;
  log: Logger;
  maxBodyBytes?: number;
  /** Deadline for the whole exchange, response body included. */
  timeoutMs?: number;
};

export function createProxyApp(opts: ProxyOptions): Hono {
  const app = new Hono();
  app.onError(problemHandler({ log: opts.log }));
  app.use(accessLog(opts.log));
  app.get("/healthz", (c) => c.text("ok"));
  app.all("*", (c) => forward(c.req.raw, opts));
  return app;
}

async function forward(req: Request, opts: ProxyOptions): Promise<Response> {
  const maxBytes = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  const timeoutMs = opts.timeoutMs ?? REQUEST_TIMEOUT_MS;
  if (Number(req.headers.get("content-length") ?? 0) > maxBytes) throw tooLarge(maxBytes);
  const body = req.body ? limitBody(req.body, maxBytes) : undefined;
  const deadline = AbortSignal.timeout(timeoutMs);
  const incoming = new URL(req.url);
  const { url, unix } = upstreamTarget(opts.upstream, incoming.pathname + incoming.search);
  let res: Response;
  try {
    res = await fetch(url, {
      method: req.method,
      headers: upstreamRequestHeaders(req.headers),
      body: body?.stream,
      // A client that hangs up stops the generation upstream too.
      signal: AbortSignal.any([deadline, req.signal]),
      unix,
      redirect: "manual",
      decompress: false,
    });
  } catch (err) {
    if (body?.exceeded()) throw tooLarge(maxBytes);
    if (deadline.aborted) throw new ProblemError(504, `inference upstream did not answer within ${timeoutMs / 1000} s`);
    opts.log.warn("upstream request failed", { method: req.method, path: incoming.pathname, error: err as Error });
    throw new ProblemError(502, "inference upstream unreachable");
  }
  const cut = (err: unknown) =>
    opts.log.warn("upstream response cut", {
      path: incoming.pathname,
      reason: deadline.aborted ? "deadline" : String(err),
    });
  // Pass the body through as a stream so NDJSON chunks reach the sandbox as the model emits them.
  const stream = res.body ? relayBody(res.body, cut) : null;
  return new Response(stream, {
    status: res.status,
    statusText: res.statusText,
    headers: clientResponseHeaders(res.headers),
  });
}

/** Relays the upstream body; if it fails mid-way (deadline, upstream gone), reports it and resets the client connection. */
function relayBody(body: ReadableStream<Uint8Array>, onCut: (err: unknown) => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const chunk = await reader.read();
        if (chunk.done) controller.close();
        else controller.enqueue(chunk.value);
      } catch (err) {
        onCut(err);
        // Bun resets the connection either way; an error without a reason keeps it from printing a non-JSON trace.
        controller.error(undefined);
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

const tooLarge = (maxBytes: number) => new ProblemError(413, `request body too large (limit ${maxBytes} bytes)`);
