/**
 * Node start-up (contracts 3.1): checks → capabilities → register → fetch config → apply it to the Worker API →
 * ack → periodic capability reports. The Worker API listens from the start so `/readyz` can say what it waits for;
 * it refuses jobs until the config's bearer token is applied.
 */
import { access, constants, mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { NodeCapabilityReport, NodeConfigurationPayload } from "../../contracts/node-payloads";
import type { Logger } from "../../lib/log";
import { serveApp, type Served } from "../../lib/serve";
import type { NodeConfig } from "../config";
import { createInferencePlacement, removeLeftoverPods } from "../inference/pod";
import { prepareInference } from "../inference/service";
import { createPodman, resolveContainersConf, type Podman } from "../sandbox/podman";
import { rfc3339 } from "../../lib/rfc3339";
import { createSandboxRunner, type SandboxSettings } from "../sandbox/run-job";
import { checkSandboxRuntime } from "../sandbox/runtime-check";
import { nodeInfo, nodeStats } from "../telemetry/node-facts";
import { recordingRunner, storeLogger, teeLogger } from "../telemetry/recorder";
import { openTelemetryStore } from "../telemetry/store";
import { createWorkerApi } from "../worker-api/app";
import { createNodeMetrics } from "../metrics";
import { createIdempotentRuns } from "../worker-api/idempotent-runs";
import { applyNodeConfig, type AppliedConfig } from "./apply-config";
import { advertisedWorkerUrl, collectCapabilities, type RunCommand } from "./capabilities";
import { createOrchestratorClient, OrchestratorError } from "./orchestrator-client";

export type NodeDeps = {
  config: NodeConfig;
  log: Logger;
  now?: () => Date;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Runs `fn` every `ms`; returns a stop function. */
  every?: (ms: number, fn: () => void) => () => void;
  /** Builds the sandbox and sidecar images when missing or stale (images/node-images.ts), before any check. */
  ensureImages?: (podman: Podman) => Promise<void>;
  /** Name of the managed Ollama container (default cynodeai-ollama). */
  ollamaContainer?: string;
  runCommand?: RunCommand;
};

export type RunningNode = {
  workerApiUrl: string;
  port: number;
  configVersion: string;
  reportNow(): Promise<void>;
  stop(): Promise<void>;
};

const defaultEvery = (ms: number, fn: () => void) => {
  const t = setInterval(fn, ms);
  return () => clearInterval(t);
};

async function ensureWritableDir(dir: string, what: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await access(dir, constants.W_OK);
  } catch (err) {
    throw new Error(`${what} ${dir} is not writable: ${(err as Error).message}`);
  }
}

export async function startNode(deps: NodeDeps): Promise<RunningNode> {
  const { config } = deps;
  const now = deps.now ?? (() => new Date());
  const sleep = deps.sleep ?? Bun.sleep;
  const every = deps.every ?? defaultEvery;
  let notReady: string | null = "starting: running start-up checks";

  await ensureWritableDir(config.storage.state_dir, "state dir");
  const telemetry = openTelemetryStore(config.storage.state_dir, { now });
  const log = teeLogger(deps.log, storeLogger(telemetry, now));
  const { build, platform } = nodeInfo(config.node.id, undefined);
  telemetry.recordBoot({ node_slug: config.node.id, ...build, ...platform });
  telemetry.enforceRetention();
  let stopRetention: (() => void)[] = [];
  let lastReport: NodeCapabilityReport | undefined;
  await ensureWritableDir(config.mountRoot, "sandbox mount root");
  const podman = createPodman({
    containersConf: await resolveContainersConf({
      explicit: config.sandbox.containers_conf,
      stateDir: config.storage.state_dir,
    }),
  });
  const { resources, timeouts } = config.sandbox;
  const settings: SandboxSettings = {
    nodeSlug: config.node.id,
    mountRoot: config.mountRoot,
    defaultImage: config.sandbox.default_image,
    allowedImages: config.sandbox.allowed_images,
    limits: { pids: resources.max_pids, memoryMb: resources.max_memory_mb, cpus: resources.max_cpu_cores },
    timeouts: { defaultSeconds: timeouts.default_seconds, maxSeconds: timeouts.max_seconds },
    maxOutputBytes: config.sandbox.max_output_bytes,
    maxConcurrency: config.sandbox.max_concurrency,
    maxDiskMb: resources.max_disk_mb,
    warmPool: config.sandbox.warm_pool,
    warmPods: config.inference.warm_pods,
  };
  await deps.ensureImages?.(podman);
  const podmanVersion = await checkSandboxRuntime({
    podman,
    image: settings.defaultImage,
    limits: settings.limits,
    mountRoot: config.mountRoot,
  });

  // The runner (created below, after inference) tells its warm pool's size at scrape time.
  let warmSandboxes = () => 0;
  const metrics = createNodeMetrics({ warmPoolSize: () => warmSandboxes() });
  const inference = await prepareInference({
    config,
    podman,
    metrics,
    log: log.child({ part: "inference" }),
    fetch: deps.fetch,
    sleep: deps.sleep,
    ollamaContainer: deps.ollamaContainer,
  });
  const placeInferenceJob = createInferencePlacement({
    podman,
    nodeSlug: config.node.id,
    mountRoot: config.mountRoot,
    proxyImage: config.inference.proxy_image,
    proxyTimeoutSeconds: config.inference.proxy_timeout_seconds,
    route: () => inference.route(),
  });
  let applied: AppliedConfig | undefined;
  const runner = createSandboxRunner({
    podman,
    settings,
    log: log.child({ part: "sandbox" }),
    now,
    maxJobTimeoutSeconds: () => applied?.maxJobTimeoutSeconds,
    placeInferenceJob,
  });
  const pods = await removeLeftoverPods(podman, config.node.id);
  if (pods.length) log.warn("removed leftover inference pods", { pods });
  const left = await runner.removeLeftovers();
  if (left.length) log.warn("removed leftover sandbox containers", { containers: left });
  runner.warmUp();
  warmSandboxes = () => runner.warmSandboxes;

  // A repeated jobs:run (an orchestrator re-attaching after a crash) attaches to the run or gets its kept result.
  const runs = createIdempotentRuns({
    run: runner.run,
    dir: join(config.storage.state_dir, "job-results"),
    log: log.child({ part: "worker-api" }),
  });
  const app = createWorkerApi({
    runner: recordingRunner(
      { ...runner, run: runs.run },
      { store: telemetry, nodeSlug: config.node.id, defaultImage: settings.defaultImage, now },
    ),
    log: log.child({ part: "worker-api" }),
    bearerToken: () => applied?.bearerToken,
    notReadyReason: () => notReady,
    maxRequestBytes: () => applied?.maxRequestBytes ?? config.worker_api.max_request_bytes,
    relaySocket: () => inference.relaySocket(),
    telemetry: () => ({
      store: telemetry,
      info: () => nodeInfo(config.node.id, lastReport),
      stats: () => nodeStats({ stateDir: config.storage.state_dir, podmanVersion, now: now() }),
    }),
    metrics,
  });
  // Jobs may run for hours on one request, so the connection never idles out.
  const server: Served = serveApp(
    app,
    { hostname: config.worker_api.listen_host, port: config.worker_api.listen_port },
    { idleTimeout: 0 },
  );
  const workerApiUrl = advertisedWorkerUrl(config, server.port);
  const client = createOrchestratorClient({
    baseUrl: config.orchestrator.url,
    psk: config.psk,
    log,
    requestTimeoutMs: config.orchestrator.timeouts.request_seconds * 1000,
    fetch: deps.fetch,
  });
  const capabilities = async () =>
    (lastReport = await collectCapabilities({
      config,
      podmanVersion,
      workerApiUrl,
      now,
      run: deps.runCommand,
      inference: await inference.capability(),
    }));
  let stopReports = () => {};

  try {
    notReady = "starting: registering with the orchestrator";
    const deadline = now().getTime() + config.orchestrator.timeouts.connect_seconds * 1000;
    let waiting = false;
    for (;;) {
      try {
        await client.register(await capabilities());
        break;
      } catch (err) {
        if (err instanceof OrchestratorError || now().getTime() >= deadline) {
          throw new Error(
            err instanceof OrchestratorError
              ? err.message
              : `orchestrator unreachable at ${config.orchestrator.url}: ${(err as Error).message}`,
          );
        }
        if (!waiting)
          log.warn("orchestrator not reachable yet; retrying", {
            url: config.orchestrator.url,
            error: (err as Error).message,
          });
        waiting = true;
        await sleep(1000);
      }
    }
    notReady = "starting: fetching the node configuration";
    const nodeConfig: NodeConfigurationPayload = await client.fetchConfig();
    const ack = { version: 1 as const, node_slug: config.node.id, config_version: nodeConfig.config_version };
    try {
      applied = applyNodeConfig(config, nodeConfig, now());
      settings.allowedImages = applied.allowedImages;
    } catch (err) {
      await client.ack({
        ...ack,
        ack_at: rfc3339(now()),
        status: "failed",
        error: { type: "config_apply_failed", message: (err as Error).message },
      });
      throw new Error(
        `node configuration ${nodeConfig.config_version} could not be applied: ${(err as Error).message}`,
      );
    }
    notReady = "starting: local inference";
    try {
      await inference.start(nodeConfig.inference_backend);
    } catch (err) {
      await client.ack({
        ...ack,
        ack_at: rfc3339(now()),
        status: "failed",
        error: { type: "inference_start_failed", message: (err as Error).message },
      });
      throw new Error(`inference could not be started: ${(err as Error).message}`);
    }
    await client.ack({ ...ack, ack_at: rfc3339(now()), status: "applied" });
    notReady = null;
    log.info("node ready", {
      node_slug: config.node.id,
      config_version: nodeConfig.config_version,
      worker_api: workerApiUrl,
    });
    const reportNow = async () => client.report(await capabilities());
    await reportNow();
    stopRetention = [every(3_600_000, () => telemetry.enforceRetention()), every(86_400_000, () => telemetry.vacuum())];
    stopReports = every(config.orchestrator.capability_report_interval_seconds * 1000, () => {
      reportNow().catch((err: Error) => log.warn("capability report failed", { error: err.message }));
    });
    return {
      workerApiUrl,
      port: server.port,
      configVersion: nodeConfig.config_version,
      reportNow,
      async stop() {
        notReady = "shutting down";
        stopReports();
        await runner.stopAll();
        await inference.stop();
        await server.stop();
        for (const stopTimer of stopRetention) stopTimer();
        telemetry.close();
      },
    };
  } catch (err) {
    stopReports();
    await runner.stopAll();
    await inference.stop();
    await server.stop();
    for (const stopTimer of stopRetention) stopTimer();
    telemetry.close();
    throw err;
  }
}
