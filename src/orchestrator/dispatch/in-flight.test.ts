import { describe, expect, it } from "bun:test";
import { createInFlight } from "./in-flight";

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
