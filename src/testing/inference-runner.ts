/** TEST SUPPORT: a sandbox runner whose inference jobs get real pods and sidecars, relayed to a given upstream. */
import { DEFAULT_INFERENCE_LIMITS } from "../lib/inference-request";
import { mkdtemp, rm } from "node:fs/promises";
import { networkInterfaces, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { buildImage } from "../../containers/build-image";
import { memoryLogger } from "../lib/log";
import type { RunJobRequest } from "../contracts/worker-api";
import type { Podman } from "../worker-node/sandbox/podman";
import { createSandboxRunner, type SandboxSettings } from "../worker-node/sandbox/run-job";
import { testSettings } from "./sandbox-fixture";
import { createInferencePlacement, type PlacementDeps } from "../worker-node/inference/pod";
import { startUpstreamRelay } from "../worker-node/inference/relay";
import { relayChat } from "../worker-node/agent/model-chat";

/**
 * The sidecar image these tests build and run: tagged per checkout, because checkouts of this repository on one
 * machine share podman's image store, and each must test its own proxy.
 */
export const PROXY_IMAGE = `localhost/cynode-inference-proxy:test-${basename(join(import.meta.dir, "../.."))
  .toLowerCase()
  .replace(/[^a-z0-9_.-]/g, "-")}`;

/** Builds the sidecar image if it is missing or stale (a no-op when up to date). */
export async function ensureProxyImage(podman: Podman): Promise<void> {
  await buildImage({ name: "inference-proxy", podman, log: () => {}, image: PROXY_IMAGE });
}

/** This host's first non-loopback IPv4 address: "the host" as a sandbox would try to reach it. */
export function hostAddress(): string {
  return (
    Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal)?.address ?? "127.0.0.1"
  );
}

/** A fresh job running `script` under `sh -c` in a sandbox that uses inference; `inference` limits its models. */
export function inferenceShellJob(script: string, inference?: RunJobRequest["inference"]): RunJobRequest {
  const id = crypto.randomUUID();
  return {
    version: 1,
    task_id: `task-${id}`,
    job_id: id,
    sandbox: { command: ["sh", "-c", script], use_inference: true },
    ...(inference ? { inference } : {}),
  };
}

export type InferenceRunnerOptions = {
  podman: Podman;
  upstreamUrl: string;
  placement?: Partial<PlacementDeps>;
  settings?: Partial<SandboxSettings>;
};

export async function startInferenceRunner(o: InferenceRunnerOptions) {
  const settings = await testSettings(o.settings);
  const relayDir = await mkdtemp(join(tmpdir(), "cynode-relay-"));
  const log = memoryLogger("inference-test");
  const relay = await startUpstreamRelay({ socket: join(relayDir, "ollama.sock"), upstreamUrl: o.upstreamUrl, log });
  const placeInferenceJob = createInferencePlacement({
    podman: o.podman,
    nodeSlug: settings.nodeSlug,
    mountRoot: settings.mountRoot,
    proxyImage: PROXY_IMAGE,
    proxyTimeoutSeconds: 120,
    defaultModels: ["qwen3.5:0.8b"],
    limits: DEFAULT_INFERENCE_LIMITS,
    proxyMaxConnections: 16,
    route: () => ({ relayDir }),
    log,
    ...o.placement,
  });
  // Agent jobs ask the same upstream through the node's relay.
  const chat = relayChat(() => relay.socket);
  const runner = createSandboxRunner({ podman: o.podman, settings, log, placeInferenceJob, chat });
  return {
    runner,
    settings,
    log,
    /** Pods and containers of this runner's node that still exist. */
    async leftovers(): Promise<string[]> {
      await runner.settled();
      const label = `--filter=label=cynodeai.node=${settings.nodeSlug}`;
      const pods = await o.podman.exec(["pod", "ps", "--format={{.Name}}", label]);
      const containers = await o.podman.exec(["ps", "--all", "--format={{.Names}}", label]);
      return (pods.stdout + containers.stdout).split("\n").filter(Boolean);
    },
    async stop() {
      await runner.stopAll();
      await relay.stop();
      await rm(relayDir, { recursive: true, force: true });
    },
  };
}
