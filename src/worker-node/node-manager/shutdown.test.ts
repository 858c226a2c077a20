import { describe, expect, it } from "bun:test";
import { stopNode } from "./shutdown";

describe("stopNode", () => {
  it("stops reports, sandboxes, the Worker API, then the telemetry store", async () => {
    const order: string[] = [];
    await stopNode({
      telemetry: { close: () => void order.push("telemetry") },
      api: { stop: async () => void order.push("api") },
      services: { stop: async () => void order.push("services") },
      reports: { stop: () => void order.push("reports") },
    });
    expect(order).toEqual(["reports", "services", "api", "telemetry"]);
  });

  it("stops only what a failed start had started", async () => {
    const order: string[] = [];
    await stopNode({ telemetry: { close: () => void order.push("telemetry") } });
    await stopNode({});
    expect(order).toEqual(["telemetry"]);
  });
});
