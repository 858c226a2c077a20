/**
 * The node-local upstream of every inference sidecar: a Unix socket served by the worker process that streams each
 * request to Ollama's TCP address and the answer back. Its directory is mounted into sidecars only, so a sidecar
 * reaches Ollama without any network, and a sandbox never sees this socket.
 */
import { chmod, mkdir, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { clientResponseHeaders, upstreamRequestHeaders } from "../../inference-proxy/forward-headers";
import type { Logger } from "../../lib/log";
import type { InferenceMetrics } from "../metrics";

export type Relay = { socket: string; stop(): Promise<void> };

// Sidecars cap bodies at 10 MiB; the relay only needs to stay out of their way.
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const NO_IDLE_TIMEOUT = { idleTimeout: 0 };

/** The body, counting its bytes as they pass (a no-op without metrics). */
function counted(body: ReadableStream<Uint8Array> | null, add?: (n: number) => void) {
  if (!body || !add) return body;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, out) {
        add(chunk.byteLength);
        out.enqueue(chunk);
      },
    }),
  );
}

export async function startUpstreamRelay(opts: {
  socket: string;
  upstreamUrl: string;
  log: Logger;
  metrics?: InferenceMetrics;
}): Promise<Relay> {
  const m = opts.metrics;
  await mkdir(dirname(opts.socket), { recursive: true, mode: 0o700 });
  await rm(opts.socket, { force: true });
  const base = opts.upstreamUrl.replace(/\/+$/, "");
  const server = Bun.serve({
    unix: opts.socket,
    // A model may think for minutes before its first byte; the sidecar's deadline governs, not Bun's 10 s idle
    // timer. Bun's types offer idleTimeout only with a port, but it applies to Unix sockets too.
    ...(NO_IDLE_TIMEOUT as object),
    maxRequestBodySize: MAX_BODY_BYTES,
    async fetch(req) {
      const { pathname, search } = new URL(req.url);
      m?.inferenceRequest();
      try {
        const res = await fetch(base + pathname + search, {
          method: req.method,
          headers: upstreamRequestHeaders(req.headers),
          body: counted(req.body, m && ((n) => m.inferenceBytes("request", n))),
          // The sidecar hanging up (deadline, sandbox gone) stops the upstream request too.
          signal: req.signal,
          redirect: "manual",
          decompress: false,
        });
        return new Response(counted(res.body, m && ((n) => m.inferenceBytes("response", n))), {
          status: res.status,
          statusText: res.statusText,
          headers: clientResponseHeaders(res.headers),
        });
      } catch (err) {
        opts.log.warn("inference relay: upstream request failed", { path: pathname, error: (err as Error).message });
        return new Response("inference upstream unreachable\n", { status: 502 });
      }
    },
  });
  await chmod(opts.socket, 0o600);
  return {
    socket: opts.socket,
    async stop() {
      await server.stop(true);
      await rm(opts.socket, { force: true });
    },
  };
}
