import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "bun:test";
import { runToIdle, useDispatchFixture } from "../../testing/dispatch-fixture";
import { insertTaskWithJob } from "../../testing/queued-job";
import { createOrchestratorMetrics } from "../metrics";
import { createPassLoop, createInFlight } from "./dispatch-loop";

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

describe("createPassLoop", () => {
  it("passes again at once when woken during a pass, else waits for the interval or a wake", async () => {
    let passes = 0;
    const loop = createPassLoop(async () => {
      passes++;
      if (passes === 1) loop.wake(); // something finished during the first pass
    }, 3_600_000);
    loop.start();
    loop.start(); // already running: no second loop
    await Bun.sleep(20);
    expect(passes).toBe(2);
    loop.wake();
    await Bun.sleep(20);
    expect(passes).toBe(3);
    await loop.stop();
    loop.wake();
    await Bun.sleep(20);
    expect(passes).toBe(3);
  });

  it("passes again after the interval", async () => {
    let passes = 0;
    const loop = createPassLoop(async () => void passes++, 5);
    loop.start();
    await Bun.sleep(100);
    await loop.stop();
    expect(passes).toBeGreaterThan(3);
  });
});

describe("the dispatcher's loop", () => {
  it("runs as a loop until stopped, abandoning in-flight calls to the lease", async () => {
    const w = await f.node("node-a", 1, { hold: true });
    const { jobId } = await insertTaskWithJob(f.t.db);
    const d = f.started({ pollIntervalMs: 5 });
    d.start();
    await w.waitForRuns(1);
    await d.stop();
    expect(f.dispatched()).toEqual(["abandoned"]);
    expect((await f.jobRow(jobId)).status).toBe("running");
  });

  it("dispatches a job queued while it idles as soon as it is woken, not at the next poll", async () => {
    const w = await f.node("node-a", 1);
    const d = f.started({ pollIntervalMs: 3_600_000 });
    await insertTaskWithJob(f.t.db);
    d.wake(); // the first pass may have run before the insert; the next one only comes when woken
    await w.waitForRuns(1);
    await d.drain();
    await d.stop();
    expect(f.dispatched()).toEqual(["completed"]);
  });

  it("logs a failed pass and goes on", async () => {
    const d = f.started({ now: () => new Date(Number.NaN), pollIntervalMs: 5 });
    await Bun.sleep(50);
    await d.stop();
    expect(f.logged("dispatch pass failed").length).toBeGreaterThan(1);
  });
});

describe("createInFlight", () => {
  it("tracks each call until it ends, telling onDone, and drains calls started meanwhile", async () => {
    let done = 0;
    const calls = createInFlight(() => done++);
    const first = Promise.withResolvers<void>();
    calls.launch("j1", { leaseId: "l1", nodeId: "n1" }, () => first.promise);
    calls.launch("j2", { leaseId: "l2", nodeId: "n2" }, async () => {});
    expect(calls.size).toBe(2);
    expect(calls.leases()).toEqual([
      { jobId: "j1", leaseId: "l1" },
      { jobId: "j2", leaseId: "l2" },
    ]);
    expect(calls.leaseIds()).toEqual(new Set(["l1", "l2"]));
    const drained = calls.drain();
    await Bun.sleep(1);
    calls.launch("j3", { leaseId: "l3", nodeId: "n1" }, async () => {});
    first.resolve();
    await drained;
    expect([calls.size, done]).toEqual([0, 3]);
  });

  it("aborts the calls to nodes outside a set with a reason, or every call", async () => {
    const calls = createInFlight(() => {});
    const reasons: unknown[] = [];
    const until = (signal: AbortSignal) =>
      new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(void reasons.push(signal.reason))));
    calls.launch("j1", { leaseId: "l1", nodeId: "n1" }, until);
    calls.launch("j2", { leaseId: "l2", nodeId: "n2" }, until);
    calls.abortOutside(new Set(["n1"]), "node lost");
    await Bun.sleep(1);
    expect([reasons, calls.size]).toEqual([["node lost"], 1]);
    calls.abortAll();
    await calls.drain();
    expect(reasons.length).toBe(2);
  });
});
