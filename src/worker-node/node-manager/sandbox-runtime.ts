/**
 * The sandbox runtime before anything runs (contracts 3.1 step 3): the mount root, podman with our containers.conf,
 * the node's images, then the start-up check that podman runs a container with our isolation and limits.
 */
import type { NodeConfig } from "../config";
import { createPodman, resolveContainersConf, type Podman } from "../sandbox/podman";
import type { SandboxSettings } from "../sandbox/run-job";
import { checkSandboxRuntime } from "../sandbox/runtime-check";
import { ensureWritableDir } from "./writable-dir";

export type SandboxRuntime = { podman: Podman; settings: SandboxSettings; podmanVersion: string };

/** The runner's settings from the node's own config (the orchestrator's policy may narrow `allowedImages` later). */
export function sandboxSettings(config: NodeConfig): SandboxSettings {
  const { sandbox } = config;
  const { resources, timeouts } = sandbox;
  return {
    nodeSlug: config.node.id,
    mountRoot: config.mountRoot,
    defaultImage: sandbox.default_image,
    allowedImages: sandbox.allowed_images,
    limits: { pids: resources.max_pids, memoryMb: resources.max_memory_mb, cpus: resources.max_cpu_cores },
    timeouts: { defaultSeconds: timeouts.default_seconds, maxSeconds: timeouts.max_seconds },
    maxOutputBytes: sandbox.max_output_bytes,
    maxConcurrency: sandbox.max_concurrency,
    maxDiskMb: resources.max_disk_mb,
    maxArtifactBytes: sandbox.max_artifacts_mb * 1024 * 1024,
    warmPool: sandbox.warm_pool,
    warmMaxIdleSeconds: sandbox.warm_max_idle_seconds,
    // A node that never offers inference keeps no warm inference pods (each start could only fail).
    warmPods: config.inference.mode === "disabled" ? 0 : config.inference.warm_pods,
  };
}

/** `ensureImages` builds the sandbox and sidecar images when missing or stale (images/node-images.ts). */
export async function prepareSandboxRuntime(
  config: NodeConfig,
  ensureImages?: (podman: Podman) => Promise<void>,
): Promise<SandboxRuntime> {
  await ensureWritableDir(config.mountRoot, "sandbox mount root");
  const podman = createPodman({
    containersConf: await resolveContainersConf({
      explicit: config.sandbox.containers_conf,
      stateDir: config.storage.state_dir,
    }),
  });
  const settings = sandboxSettings(config);
  await ensureImages?.(podman);
  const podmanVersion = await checkSandboxRuntime({
    podman,
    image: settings.defaultImage,
    limits: settings.limits,
    mountRoot: config.mountRoot,
  });
  return { podman, settings, podmanVersion };
}
