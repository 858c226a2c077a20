/**
 * Node start-up (contracts 3.1), one step per part: telemetry → sandbox runtime check → services → Worker API
 * listener → register → fetch, apply and ack the config → periodic capability reports. The Worker API listens from
 * the start so `/readyz` can say what it waits for; it refuses jobs until the config's bearer token is applied.
 */
import type { Logger } from "../../lib/log";
import type { NodeConfig } from "../config";
import type { Podman } from "../sandbox/podman";
import type { RunCommand } from "./capabilities";
import { capabilitySource, startCapabilityReports } from "./capability-reports";
import { configureNode } from "./node-configuration";
import { everyInterval, type Every, type NodeContext, type NodeState } from "./node-context";
import { openNodeTelemetry } from "./node-telemetry";
import { loadOrCreateNodeKey } from "./node-identity";
import { orchestratorClient, registerWithRetry } from "./registration";
import { prepareSandboxRuntime } from "./sandbox-runtime";
import { startSandboxServices, type SandboxServicesOptions } from "./sandbox-services";
import { stopNode, type NodeParts } from "./shutdown";
import { listenWorkerApi } from "./worker-api-listener";
import { issuedWorkerTls, newWorkerCertificateRequest, wantsClusterCertificate } from "./worker-api-certificate";

/** `fetch` and `sleep` also serve the orchestrator client and registration's retries. */
export type NodeDeps = SandboxServicesOptions & {
  config: NodeConfig;
  log: Logger;
  now?: () => Date;
  every?: Every;
  /** Builds the sandbox and sidecar images when missing or stale (images/node-images.ts), before any check. */
  ensureImages?: (podman: Podman) => Promise<void>;
  runCommand?: RunCommand;
};

export type RunningNode = {
  /** The Worker API's URL as the orchestrator was told it, and the port it listens on. */
  workerApiUrl: string;
  port: number;
  /** The orchestrator's config the node applied and acked. */
  configVersion: string;
  /** Sends a capability report now (the periodic ones go on). */
  reportNow(): Promise<void>;
  /** Readiness says "shutting down"; then every part stops, the telemetry store last. */
  stop(): Promise<void>;
};

/** Resolves once the node is ready; a failed step stops what was started and rejects with its reason. */
export async function startNode(deps: NodeDeps): Promise<RunningNode> {
  const now = deps.now ?? (() => new Date());
  const state: NodeState = { notReady: "starting: running start-up checks" };
  const parts: NodeParts = {};
  try {
    const telemetry = (parts.telemetry = await openNodeTelemetry(deps.config, deps.log, now));
    const ctx: NodeContext = { config: deps.config, state, log: telemetry.log, now };
    const runtime = await prepareSandboxRuntime(ctx.config, deps.ensureImages);
    const services = (parts.services = await startSandboxServices(ctx, runtime, deps));
    const { podmanVersion } = runtime;
    const api = (parts.api = listenWorkerApi(ctx, { ...services, store: telemetry.store, podmanVersion }));
    const workerApiUrl = api.advertisedUrl;
    const collect = capabilitySource(ctx, { ...services, podmanVersion, workerApiUrl, run: deps.runCommand });
    const certRequest = wantsClusterCertificate(ctx.config)
      ? await newWorkerCertificateRequest(ctx.config.node.id)
      : undefined;
    const nodeKey = await loadOrCreateNodeKey(ctx.config.storage.state_dir);
    const client = orchestratorClient(ctx, deps.fetch, certRequest?.csrPem, nodeKey);
    await registerWithRetry(ctx, { client, collect, sleep: deps.sleep ?? Bun.sleep });
    services.runner.useJobFiles(client.files);
    services.runner.useStepReports(client.steps);
    if (certRequest) await api.useTls(issuedWorkerTls(certRequest, client.workerApiTls()));
    const { config_version } = await configureNode(ctx, { ...services, client, settings: runtime.settings });
    state.notReady = null;
    ctx.log.info("node ready", { node_slug: ctx.config.node.id, config_version, worker_api: workerApiUrl });
    const every = deps.every ?? everyInterval;
    telemetry.startUpkeep(every);
    const reports = (parts.reports = await startCapabilityReports(ctx, { client, collect, every }));
    const stop = async () => {
      state.notReady = "shutting down";
      await stopNode(parts);
    };
    return { workerApiUrl, port: api.port, configVersion: config_version, reportNow: reports.reportNow, stop };
  } catch (err) {
    await stopNode(parts);
    throw err;
  }
}
