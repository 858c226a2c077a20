/**
 * The services jobs run on: the node's metrics, its inference side (contracts 3.1 step 8, prepared here and started
 * with the config) and the sandbox runner whose inference jobs get pods. What a previous run of this node left is
 * removed, then the warm pool fills.
 */
import { inferenceLimits } from "../config";
import { createInferencePlacement, removeLeftoverPods } from "../inference/pod";
import { prepareInference, type InferenceService } from "../inference/service";
import { createNodeMetrics } from "../metrics";
import type { PlaceJob } from "../sandbox/job-sandbox";
import { createSandboxRunner } from "../sandbox/run-job";
import { relayChat } from "../agent/model-chat";
import type { NodeContext } from "./node-context";
import type { SandboxRuntime } from "./sandbox-runtime";

export type SandboxServicesOptions = {
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Name of the managed Ollama container (default cynodeai-ollama). */
  ollamaContainer?: string;
};

/**
 * The warm pool fills at once, but inference starts only with the orchestrator's config: a warm inference pod waits
 * for that start instead of failing before it and being retried later. At the node's stop (`release`) a waiting one
 * gives up: a pod made while the node exits could be left half made.
 */
function warmPodsAfterInferenceStart(prepared: InferenceService, placement: PlaceJob) {
  const started = Promise.withResolvers<void>();
  started.promise.catch(() => {});
  const prepare = placement.prepare!;
  placement.prepare = async (id, labels) => {
    await started.promise;
    return prepare(id, labels);
  };
  const inference: InferenceService = {
    ...prepared,
    start: (backend) => prepared.start(backend).finally(started.resolve),
  };
  return {
    inference,
    placeInferenceJob: placement,
    release: () => started.reject(new Error("the node is stopping")),
  };
}

export async function startSandboxServices(
  { config, state, log, now }: NodeContext,
  { podman, settings }: SandboxRuntime,
  o: SandboxServicesOptions = {},
) {
  // The runner (created below, after inference) tells its warm pool's size at scrape time.
  let warmSandboxes = () => 0;
  const metrics = createNodeMetrics({ warmPoolSize: () => warmSandboxes() });
  const prepared = await prepareInference({
    config,
    podman,
    metrics,
    log: log.child({ part: "inference" }),
    fetch: o.fetch,
    sleep: o.sleep,
    ollamaContainer: o.ollamaContainer,
  });
  const { inference, placeInferenceJob, release } = warmPodsAfterInferenceStart(
    prepared,
    createInferencePlacement({
      podman,
      nodeSlug: config.node.id,
      mountRoot: config.mountRoot,
      proxyImage: config.inference.proxy_image,
      proxyTimeoutSeconds: config.inference.proxy_timeout_seconds,
      defaultModels: config.inference.default_models,
      limits: inferenceLimits(config),
      proxyMaxConnections: config.inference.proxy_max_connections,
      route: () => prepared.route(),
      log: log.child({ part: "egress" }),
    }),
  );
  const runner = createSandboxRunner({
    podman,
    settings,
    log: log.child({ part: "sandbox" }),
    now,
    maxJobTimeoutSeconds: () => state.applied?.maxJobTimeoutSeconds,
    placeInferenceJob,
    // Agent jobs ask the node's model through the same relay as the Worker API's chat route.
    chat: relayChat(() => prepared.relaySocket()),
    defaultModels: () => config.inference.default_models ?? [],
  });
  const pods = await removeLeftoverPods(podman, config.node.id);
  if (pods.length) log.warn("removed leftover inference pods", { pods });
  const left = await runner.removeLeftovers();
  if (left.length) log.warn("removed leftover sandbox containers", { containers: left });
  runner.warmUp();
  warmSandboxes = () => runner.warmSandboxes;
  return {
    metrics,
    inference,
    runner,
    /** Stops every sandbox (ending the requests that wait on them), then inference. */
    async stop(): Promise<void> {
      release();
      await runner.stopAll();
      await inference.stop();
    },
  };
}
