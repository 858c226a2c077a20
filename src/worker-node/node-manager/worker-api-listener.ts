/**
 * The Worker API listener, up from the start so `/readyz` can say what the node waits for; it refuses jobs until the
 * config's bearer token is applied. Every run goes through the idempotent-run store (a repeated jobs:run attaches to
 * the run or gets its kept result) and is recorded in the telemetry store.
 */
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { serveApp, type Served, type TlsFiles } from "../../lib/serve";
import type { InferenceService } from "../inference/service";
import type { NodeMetrics } from "../metrics";
import type { SandboxRunner } from "../sandbox/run-job";
import { nodeInfo, nodeStats } from "../telemetry/node-facts";
import { recordingRunner } from "../telemetry/recorder";
import type { TelemetryStore } from "../telemetry/store";
import { createWorkerApi } from "../worker-api/app";
import { createIdempotentRuns } from "../worker-api/idempotent-runs";
import { inferenceLimits } from "../config";
import { advertisedWorkerUrl } from "./capabilities";
import type { NodeContext } from "./node-context";

export type WorkerApiParts = {
  runner: Pick<SandboxRunner, "run" | "cancel">;
  inference: Pick<InferenceService, "relaySocket">;
  metrics: NodeMetrics;
  store: TelemetryStore;
  podmanVersion: string;
};

/** The server, and the URL the orchestrator is told to dispatch to. */
export type WorkerApiListener = Served & {
  advertisedUrl: string;
  /** Serves HTTPS with `tls` from now on, on the same port (the certificate the cluster CA issued at registration). */
  useTls(tls: TlsFiles): Promise<void>;
};

/** The certificate and key of `worker_api.tls`, read once at start. */
function workerApiTls(config: NodeContext["config"]): TlsFiles | undefined {
  const files = config.worker_api.tls;
  if (!files) return undefined;
  const read = (what: string, path: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch (err) {
      throw new Error(`cannot read worker_api.tls.${what} ${path}: ${(err as Error).message}`);
    }
  };
  return { cert: read("cert_file", files.cert_file), key: read("key_file", files.key_file) };
}

export function listenWorkerApi(ctx: NodeContext, d: WorkerApiParts): WorkerApiListener {
  const { config, state, now } = ctx;
  const { store } = d;
  const log = ctx.log.child({ part: "worker-api" });
  const runs = createIdempotentRuns({ run: d.runner.run, dir: join(config.storage.state_dir, "job-results"), log });
  const app = createWorkerApi({
    runner: recordingRunner(
      { ...d.runner, run: runs.run },
      { store, nodeSlug: config.node.id, defaultImage: config.sandbox.default_image, now },
    ),
    log,
    bearerToken: () => state.applied?.bearerToken,
    notReadyReason: () => state.notReady,
    maxRequestBytes: () => state.applied?.maxRequestBytes ?? config.worker_api.max_request_bytes,
    relaySocket: () => d.inference.relaySocket(),
    inferenceLimits: inferenceLimits(config),
    telemetry: () => ({
      store,
      info: () => nodeInfo(config.node.id, state.lastReport),
      stats: () => nodeStats({ stateDir: config.storage.state_dir, podmanVersion: d.podmanVersion, now: now() }),
    }),
    metrics: d.metrics,
  });
  // Jobs may run for hours on one request, so the connection never idles out.
  const serve = (port: number, tls?: TlsFiles) =>
    serveApp(app, { hostname: config.worker_api.listen_host, port }, { idleTimeout: 0, tls });
  let server = serve(config.worker_api.listen_port, workerApiTls(config));
  return {
    get url() {
      return server.url;
    },
    port: server.port,
    advertisedUrl: advertisedWorkerUrl(config, server.port),
    stop: (graceMs) => server.stop(graceMs),
    async useTls(tls) {
      // Before the config is applied no job can be running: nothing is cut.
      await server.stop(0);
      server = serve(server.port, tls);
    },
  };
}
