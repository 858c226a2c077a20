import { beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { testNodeConfig } from "../../testing/node-config";
import { ensureSandboxImage, testPodman } from "../../testing/sandbox-fixture";
import { prepareSandboxRuntime, sandboxSettings } from "./sandbox-runtime";

// The start-up check runs a real container; under a busy host that takes seconds.
setDefaultTimeout(60_000);
beforeAll(() => ensureSandboxImage(testPodman()), 300_000);

describe("sandboxSettings", () => {
  it("takes the runner's settings from the node YAML", async () => {
    const config = await testNodeConfig({
      yaml: [
        "node: { id: settings-node }",
        "sandbox:",
        "  allowed_images: [localhost/a:latest]",
        "  resources: { max_cpu_cores: 1.5, max_memory_mb: 300, max_pids: 70, max_disk_mb: 100 }",
        "  timeouts: { default_seconds: 30, max_seconds: 90 }",
        "  max_concurrency: 3",
        "  warm_pool: 0",
        "  max_output_bytes: 1000",
        "  max_artifacts_mb: 2",
        "inference: { warm_pods: 2 }",
      ].join("\n"),
    });
    expect(sandboxSettings(config)).toEqual({
      nodeSlug: "settings-node",
      mountRoot: config.mountRoot,
      defaultImage: "localhost/cynode-sandbox:latest",
      allowedImages: ["localhost/a:latest"],
      limits: { pids: 70, memoryMb: 300, cpus: 1.5 },
      timeouts: { defaultSeconds: 30, maxSeconds: 90 },
      maxOutputBytes: 1000,
      maxConcurrency: 3,
      maxDiskMb: 100,
      maxArtifactBytes: 2 * 1024 * 1024,
      warmPool: 0,
      warmMaxIdleSeconds: 900,
      warmPods: 2,
    });
  });

  it("keeps no warm inference pods on a node whose inference is disabled", async () => {
    const config = await testNodeConfig({ yaml: "inference: { mode: disabled, warm_pods: 2 }" });
    expect(sandboxSettings(config).warmPods).toBe(0);
  });
});

describe("prepareSandboxRuntime", () => {
  it("builds the images first, then checks that podman runs a hardened container", async () => {
    const config = await testNodeConfig();
    const built: unknown[] = [];
    const runtime = await prepareSandboxRuntime(config, async (podman) => void built.push(podman));
    expect(built).toEqual([runtime.podman]);
    expect(runtime.podmanVersion).toMatch(/^\d+\.\d+/);
    expect(runtime.settings.mountRoot).toBe(config.mountRoot);
  });

  it("explains a sandbox image that is missing and cannot be built", async () => {
    const config = await testNodeConfig({ env: { SANDBOX_IMAGE: "localhost/cynode-missing:latest" } });
    await expect(prepareSandboxRuntime(config)).rejects.toThrow("build it with `just images`");
  });

  it("refuses a mount root it cannot write", async () => {
    const config = await testNodeConfig({ env: { CYNODE_SANDBOX_MOUNT_ROOT: "/proc/cynode-mounts" } });
    await expect(prepareSandboxRuntime(config)).rejects.toThrow(
      "sandbox mount root /proc/cynode-mounts is not writable",
    );
  });
});
