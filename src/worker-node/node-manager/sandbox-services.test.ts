import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { ensureProxyImage } from "../../testing/inference-runner";
import { testNodeConfig, testNodeContext } from "../../testing/node-config";
import { startOllamaTestServer } from "../../testing/ollama-test-server";
import { NODE_LABEL } from "../sandbox/job-sandbox";
import { ensureSandboxImage, SANDBOX_IMAGE, testPodman } from "../../testing/sandbox-fixture";
import { prepareSandboxRuntime } from "./sandbox-runtime";
import { startSandboxServices } from "./sandbox-services";
import { until } from "../../testing/until";

// Real podman: a warm sandbox and a leftover container; under a busy host that takes seconds.
setDefaultTimeout(60_000);
const podman = testPodman();
const slug = `services-${process.pid}-${crypto.randomUUID().slice(0, 6)}`;
const ofThisNode = async () =>
  (await podman.exec(["ps", "--all", "--format={{.Names}}", `--filter=label=${NODE_LABEL}=${slug}`])).stdout
    .split("\n")
    .filter(Boolean);

beforeAll(() => Promise.all([ensureSandboxImage(podman), ensureProxyImage(podman)]), 300_000);

const warmFailures = (lines: { msg?: unknown }[]) =>
  lines.filter((l) => l.msg === "warm sandbox could not be started; retrying later");
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
      await until(() => services.runner.warmSandboxes >= 1, "a warm sandbox", { timeoutMs: 30_000 });
      const text = await services.metrics.registry.metrics();
      expect(text).toContain("cynode_sandbox_warm_pool_size 1");
      // Inference is disabled, so no warm inference pod was ever tried (the plain one is ready by now).
      expect(warmFailures(ctx.log.lines)).toEqual([]);
    } finally {
      await services.stop();
    }
    expect(await ofThisNode()).toEqual([]);
  });

  it("starts warm inference pods once inference has started, not before", async () => {
    const upstream = await startOllamaTestServer({ port: 0, models: ["m"] });
    const config = await testNodeConfig({
      yaml: "sandbox: { warm_pool: 1 }\ninference: { warm_pods: 1 }\n",
      env: { NODE_SLUG: `${slug}-pods`, OLLAMA_UPSTREAM_URL: upstream.url! },
    });
    const ctx = testNodeContext(config);
    const services = await startSandboxServices(ctx, await prepareSandboxRuntime(config));
    try {
      await until(() => services.runner.warm("plain") >= 1, "a warm plain sandbox", { timeoutMs: 30_000 });
      // Before this, every node's first warm pod failed ("inference has not been started") and waited for a retry.
      expect(services.runner.warm("inference")).toBe(0);
      await services.inference.start(undefined);
      await until(() => services.runner.warm("inference") >= 1, "a warm inference pod", { timeoutMs: 60_000 });
      expect(warmFailures(ctx.log.lines)).toEqual([]);
    } finally {
      await services.stop();
      await upstream.stop();
    }
  });
});
