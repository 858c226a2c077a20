/**
 * The node-local upstream of every inference sidecar: a Unix socket served by the worker process that splices each
 * request onto a TCP connection to Ollama and the answer back (see lib/http-splice.ts: heads filtered,
 * bodies copied as they arrive). Its directory is mounted into sidecars only, so a sidecar reaches Ollama without
 * any network, and a sandbox never sees this socket. It forwards only the inference API (contracts/inference-api.ts),
 * as the sidecars do (decision 24: defence in depth), and closes connections whose request head is slow.
 */
import { chmod, mkdir, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { decideInferenceRequest } from "../../contracts/inference-api";
import { serveSplice, type Admission, type Answer } from "../../lib/http-splice";
import { parseUpstream } from "../../lib/http-upstream";
import type { Logger } from "../../lib/log";
import type { InferenceMetrics } from "../metrics";

export type Relay = { socket: string; stop(): Promise<void> };

const plain = (status: number, detail: string): Answer => ({
  status,
  type: "text/plain; charset=utf-8",
  body: `${detail}\n`,
});

/** The relay's own check: the same allow-list, the same normalised path forwarded. */
export function relayAdmission(method: string, target: string): Admission {
  const decision = decideInferenceRequest(method, target);
  return decision.allowed ? { target: decision.path } : { answer: plain(403, decision.detail) };
}

export async function startUpstreamRelay(opts: {
  socket: string;
  upstreamUrl: string;
  log: Logger;
  metrics?: InferenceMetrics;
}): Promise<Relay> {
  await mkdir(dirname(opts.socket), { recursive: true, mode: 0o700 });
  await rm(opts.socket, { force: true });
  // No body limit and no deadline here: the sidecars in front enforce theirs (a model may think for minutes).
  const server = serveSplice(
    { unix: opts.socket },
    {
      upstream: parseUpstream(opts.upstreamUrl),
      log: opts.log,
      logPrefix: "inference relay: ",
      errorAnswer: plain,
      admit: relayAdmission,
      accessLog: false,
      counters: opts.metrics,
    },
  );
  await chmod(opts.socket, 0o600);
  return {
    socket: opts.socket,
    async stop() {
      server.stop();
      await rm(opts.socket, { force: true });
    },
  };
}
