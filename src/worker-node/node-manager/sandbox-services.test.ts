import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { testNodeConfig, testNodeContext } from "../../testing/node-config";
import { NODE_LABEL } from "../sandbox/job-sandbox";
import { ensureSandboxImage, SANDBOX_IMAGE, testPodman } from "../../testing/sandbox-fixture";
import { prepareSandboxRuntime } from "./sandbox-runtime";
import { startSandboxServices } from "./sandbox-services";

// Real podman: a warm sandbox and a leftover container; under a busy host that takes seconds.
setDefaultTimeout(60_000);
const podman = testPodman();
const slug = `services-${process.pid}-${crypto.randomUUID().slice(0, 6)}`;
const ofThisNode = async () =>
  (await podman.exec(["ps", "--all", "--format={{.Names}}", `--filter=label=${NODE_LABEL}=${slug}`])).stdout
    .split("\n")
    .filter(Boolean);

beforeAll(() => ensureSandboxImage(podman), 300_000);
afterAll(async () => {
  const left = await ofThisNode();
  if (left.length) await podman.exec(["rm", "--force", "--time=0", ...left]);
});

describe("startSandboxServices", () => {
  it("removes what this node left, keeps a warm sandbox that the metrics count, and removes it on stop", async () => {
    const leftover = `${slug}-leftover`;
    await podman.exec(["create", `--name=${leftover}`, `--label=${NODE_LABEL}=${slug}`, SANDBOX_IMAGE, "true"]);
    const config = await testNodeConfig({
      yaml: "sandbox: { warm_pool: 1 }\ninference: { mode: disabled }\n",
      env: { NODE_SLUG: slug },
    });
    const ctx = testNodeContext(config);
    const services = await startSandboxServices(ctx, await prepareSandboxRuntime(config));
    try {
      expect(ctx.log.lines.find((l) => l.msg === "removed leftover sandbox containers")?.containers).toEqual([
        leftover,
      ]);
      expect(services.inference.route()).toEqual({
        unavailable: "inference.mode is disabled in the node configuration",
      });
      while (services.runner.warmSandboxes < 1) await Bun.sleep(50);
      const text = await services.metrics.registry.metrics();
      expect(text).toContain("cynode_sandbox_warm_pool_size 1");
      // Inference is disabled, so no warm inference pod was ever tried (the plain one is ready by now).
      expect(ctx.log.lines.filter((l) => l.msg === "warm sandbox could not be started; retrying later")).toEqual([]);
    } finally {
      await services.stop();
    }
    expect(await ofThisNode()).toEqual([]);
  });
});
