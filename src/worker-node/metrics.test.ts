import { describe, expect, it } from "bun:test";
import { Hono } from "hono";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { mountMetrics } from "../lib/metrics-route";
import { createNodeMetrics } from "./metrics";

async function read(app: Hono, name: string) {
  const res = await app.request("/metrics");
  expect(res.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
  return parsePrometheusTextFormat(await res.text()).find((f) => f.name === name)?.metrics ?? [];
}

describe("node metrics", () => {
  it("reads the warm-pool size from the function it is given, at each scrape", async () => {
    let size = 0;
    const metrics = createNodeMetrics({ warmPoolSize: () => size });
    const app = mountMetrics(new Hono(), metrics.registry);
    expect((await read(app, "cynode_sandbox_warm_pool_size"))[0]?.value).toBe("0");
    size = 3;
    expect((await read(app, "cynode_sandbox_warm_pool_size"))[0]?.value).toBe("3");
  });

  it("counts runs by outcome, zero for every outcome from the start; each instance has its own registry", async () => {
    const one = createNodeMetrics();
    const two = createNodeMetrics();
    one.runStarted()("error");
    const runs = await read(mountMetrics(new Hono(), one.registry), "cynode_sandbox_runs_total");
    expect(Object.fromEntries(runs.map((m) => [m.labels?.outcome, m.value]))).toEqual({
      completed: "0",
      failed: "0",
      timeout: "0",
      canceled: "0",
      error: "1",
    });
    const other = await read(mountMetrics(new Hono(), two.registry), "cynode_sandbox_runs_total");
    expect(other.find((m) => m.labels?.outcome === "error")?.value).toBe("0");
  });
});
