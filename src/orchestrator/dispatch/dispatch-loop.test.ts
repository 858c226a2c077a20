import { describe, expect, it } from "bun:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { runToIdle, useDispatchFixture } from "../../testing/dispatch-fixture";
import { insertTaskWithJob } from "../../testing/queued-job";
import { createOrchestratorMetrics } from "../metrics";

const f = useDispatchFixture();

describe("dispatcher", () => {
  it("is seen in the metrics: queue depth and statuses at scrape time, each claim's dispatch latency", async () => {
    const metrics = createOrchestratorMetrics(f.t.db);
    const read = async () => {
      const families = parsePrometheusTextFormat(await metrics.registry.metrics());
      return (name: string, labels: Record<string, string> = {}, field: "value" | "count" = "value") =>
        families
          .find((m) => m.name === name)
          ?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.[field];
    };
    await f.node("node-a", 2);
    await Promise.all([insertTaskWithJob(f.t.db), insertTaskWithJob(f.t.db)]);
    const before = await read();
    expect([before("cynode_queue_depth"), before("cynode_jobs", { status: "queued" })]).toEqual(["2", "2"]);
    expect(before("cynode_nodes", { status: "active" })).toBe("1");
    expect(before("cynode_dispatch_latency_seconds", {}, "count")).toBe("0");
    await runToIdle(f.dispatcher({ metrics }));
    const after = await read();
    expect([after("cynode_queue_depth"), after("cynode_jobs", { status: "completed" })]).toEqual(["0", "2"]);
    expect(after("cynode_tasks", { status: "completed" })).toBe("2");
    expect(after("cynode_dispatch_latency_seconds", {}, "count")).toBe("2");
    expect(after("cynode_node_last_seen_timestamp_seconds", { node_slug: "node-a" })).toBeDefined();
  });
});
