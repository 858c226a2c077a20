import { describe, expect, it } from "bun:test";
import type { NodeCapabilityReport } from "../../contracts/node-payloads";
import { testNodeConfig, testNodeContext } from "../../testing/node-config";
import { capabilitySource, startCapabilityReports } from "./capability-reports";
import { until } from "../../testing/until";

const config = await testNodeConfig({ env: { NODE_SLUG: "cap-source" } });
const inference = { supported: true, mode: "allow" as const, existing_service: true, running: true };

describe("capabilitySource", () => {
  it("collects a report with the inference of the moment and keeps it as the last one", async () => {
    const ctx = testNodeContext(config);
    const collect = capabilitySource(ctx, {
      podmanVersion: "4.3.1",
      workerApiUrl: "http://node:12090",
      inference: { capability: async () => inference },
      run: async () => undefined,
    });
    const report = await collect();
    expect(report).toMatchObject({
      reported_at: "2026-03-01T10:00:00Z",
      node: { node_slug: "cap-source" },
      container_runtime: { version: "4.3.1" },
      inference,
      worker_api: { base_url: "http://node:12090" },
    });
    expect(ctx.state.lastReport).toBe(report);
  });
});

describe("startCapabilityReports", () => {
  const report = { version: 1 } as NodeCapabilityReport;

  it("reports at once, then on each tick; a failed tick is logged and the next one reports again", async () => {
    const ctx = testNodeContext(config);
    const sent: NodeCapabilityReport[] = [];
    let down = false;
    let tick = () => {};
    let interval = 0;
    let stopped = false;
    const reports = await startCapabilityReports(ctx, {
      client: {
        report: async (r) => {
          if (down) throw new Error("capability report failed: HTTP 503 maintenance");
          sent.push(r);
        },
      },
      collect: async () => report,
      every: (ms, fn) => {
        interval = ms;
        tick = fn;
        return () => void (stopped = true);
      },
    });
    expect([sent.length, interval]).toEqual([1, 60_000]);
    down = true;
    tick();
    await until(
      () => ctx.log.lines.some((l) => l.msg === "capability report failed"),
      "a `capability report failed` log line",
    );
    expect(ctx.log.lines.find((l) => l.msg === "capability report failed")?.error).toBe(
      "capability report failed: HTTP 503 maintenance",
    );
    down = false;
    await reports.reportNow();
    expect(sent.length).toBe(2);
    reports.stop();
    expect(stopped).toBe(true);
  });

  it("fails the start when the first report fails, scheduling nothing", async () => {
    let scheduled = false;
    const starting = startCapabilityReports(testNodeContext(config), {
      client: { report: async () => Promise.reject(new Error("capability report failed: HTTP 500")) },
      collect: async () => report,
      every: () => {
        scheduled = true;
        return () => {};
      },
    });
    await expect(starting).rejects.toThrow("capability report failed: HTTP 500");
    expect(scheduled).toBe(false);
  });
});
