/**
 * The node's inference side as the node manager drives it (contracts 3.1 step 8): before registering, find out
 * what this node can offer (mode, sidecar image, an Ollama already answering); after the config is applied, reuse
 * that Ollama or start the managed one if told to, and relay sidecars to it. Capability reports say what is true now.
 */
import { join } from "node:path";
import type { InferenceBackend, NodeCapabilityReport } from "../../contracts/node-payloads";
import type { Logger } from "../../lib/log";
import type { NodeConfig } from "../config";
import type { InferenceMetrics } from "../metrics";
import type { Podman } from "../sandbox/podman";
import { OLLAMA_CONTAINER, probeOllama, pullModelInBackground, startManagedOllama, type ManagedOllama } from "./ollama";
import type { InferenceRoute } from "./pod";
import { startUpstreamRelay, type Relay } from "./relay";

const RELAY_SOCKET = "ollama.sock";

export type InferenceCapability = NonNullable<NodeCapabilityReport["inference"]>;

export type InferenceDeps = {
  config: NodeConfig;
  podman: Podman;
  log: Logger;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Builds the sidecar image when missing (from source); absent in a compiled binary. */
  buildProxyImage?: () => Promise<void>;
  /** Name of the managed Ollama container (tests use their own). */
  ollamaContainer?: string;
  /** Told of each relayed request and its bytes. */
  metrics?: InferenceMetrics;
};

export type InferenceService = Awaited<ReturnType<typeof prepareInference>>;

/** Why this node cannot offer inference at all, or undefined when it can: a sidecar image exists or was just built. */
async function whyUnavailable({ config, podman, buildProxyImage }: InferenceDeps): Promise<string | undefined> {
  const { mode, proxy_image: image } = config.inference;
  if (mode === "disabled") return "inference.mode is disabled in the node configuration";
  if (await podman.api.imageExists(image)) return undefined;
  const how = "build it with `just images` (bun containers/build-image.ts inference-proxy)";
  if (!buildProxyImage) return `the inference-proxy image ${image} is missing; ${how}`;
  return buildProxyImage().then(
    () => undefined,
    (err: Error) => `the inference-proxy image ${image} is missing and building it failed: ${err.message}`,
  );
}

/** The managed Ollama `backend` asks for, its selected model pulled in the background when it lacks it. */
async function startBackend(deps: InferenceDeps, backend: InferenceBackend): Promise<ManagedOllama> {
  const { config, podman, log } = deps;
  const settings = config.inference;
  const name = deps.ollamaContainer ?? OLLAMA_CONTAINER;
  const managed = await startManagedOllama(
    {
      name,
      image: backend.image || settings.ollama_image,
      hostPort: Number(new URL(settings.upstream_url).port || 11434),
      modelsVolume: settings.models_volume,
      variant: backend.variant,
      env: backend.env,
      labels: { "cynodeai.node": config.node.id },
    },
    { podman, log, fetch: deps.fetch, sleep: deps.sleep, probeAttempts: settings.start_timeout_seconds * 2 },
  );
  if (backend.selected_model && !managed.models.includes(backend.selected_model)) {
    void pullModelInBackground(podman, name, backend.selected_model, log);
  }
  return managed;
}

/** Throws only for `inference.mode: require` on a node that cannot offer inference. */
export async function prepareInference(deps: InferenceDeps) {
  const { config, log } = deps;
  const settings = config.inference;
  const relayDir = join(config.storage.state_dir, "inference-relay");
  let upstreamUrl = settings.upstream_url;
  let relay: Relay | undefined;
  let managed: ManagedOllama | undefined;

  let unavailable = await whyUnavailable(deps);
  if (unavailable && settings.mode === "require") throw new Error(`inference.mode is require, but ${unavailable}`);
  if (unavailable && settings.mode !== "disabled")
    log.warn("inference unavailable on this node", { reason: unavailable });
  const supported = unavailable === undefined;
  const existing = supported && (await probeOllama(upstreamUrl, deps.fetch)) !== undefined;
  if (existing) log.info("reusing the Ollama already running", { url: upstreamUrl });

  return {
    async capability(): Promise<InferenceCapability> {
      const models = supported ? await probeOllama(upstreamUrl, deps.fetch) : undefined;
      return {
        supported,
        mode: settings.mode,
        existing_service: existing,
        running: models !== undefined,
        ...(models ? { available_models: models } : {}),
      };
    },

    /** After the config is applied: reuse, or start what `inference_backend` asks for; throws if that start fails. */
    async start(backend: InferenceBackend | undefined): Promise<void> {
      if (!supported) return;
      if (!existing) {
        if (!backend?.enabled) {
          unavailable = `no Ollama answers at ${upstreamUrl} and the orchestrator did not ask this node to start one`;
          log.warn("inference unavailable on this node", { reason: unavailable });
          return;
        }
        managed = await startBackend(deps, backend);
        upstreamUrl = managed.url;
      }
      relay = await startUpstreamRelay({
        socket: join(relayDir, RELAY_SOCKET),
        upstreamUrl,
        log,
        metrics: deps.metrics,
      });
    },

    /** The relay's socket while inference runs: the Worker API's chat route reaches Ollama through it. */
    relaySocket(): string | undefined {
      return relay?.socket;
    },

    route(): InferenceRoute {
      return relay ? { relayDir } : { unavailable: unavailable ?? "inference has not been started on this node yet" };
    },

    /** Stops the relay and the Ollama container this node started (never one it found running). */
    async stop(): Promise<void> {
      await relay?.stop();
      relay = undefined;
      await managed?.stop();
      managed = undefined;
    },
  };
}
