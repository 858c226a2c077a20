import { describe, expect, it } from "bun:test";
import type { NodeCapabilityReport } from "../../contracts/node-payloads";
import { testNodeConfig, testNodeContext } from "../../testing/node-config";
import { OrchestratorError } from "./orchestrator-client";
import { orchestratorClient, registerWithRetry } from "./registration";

const config = await testNodeConfig({
  yaml: "orchestrator: { timeouts: { connect_seconds: 3 } }\n",
  env: { ORCHESTRATOR_URL: "http://127.0.0.1:1" },
});
const report = { version: 1, node: { node_slug: "n1" } } as NodeCapabilityReport;

/** Registration against `register`, on a fake clock that each sleep moves on. */
function registering(register: (r: NodeCapabilityReport) => Promise<unknown>) {
  let fake = Date.parse("2026-03-01T10:00:00Z");
  const sleeps: number[] = [];
  const ctx = { ...testNodeContext(config), now: () => new Date(fake) };
  const done = registerWithRetry(ctx, {
    client: { register },
    collect: async () => report,
    sleep: async (ms) => {
      sleeps.push(ms);
      fake += ms;
    },
  });
  return { done, sleeps, ctx };
}

describe("registerWithRetry", () => {
  it("gives up on an unreachable orchestrator after the connect timeout, retrying every second", async () => {
    const { done, sleeps, ctx } = registering((r) => orchestratorClient(testNodeContext(config)).register(r));
    expect(ctx.state.notReady).toBe("starting: registering with the orchestrator");
    await expect(done).rejects.toThrow(
      "orchestrator unreachable at http://127.0.0.1:1: POST http://127.0.0.1:1/v1/nodes/register: ",
    );
    expect(sleeps).toEqual([1000, 1000, 1000]);
    expect(ctx.log.lines.filter((l) => l.msg === "orchestrator not reachable yet; retrying")).toHaveLength(1);
  });

  it("registers once the orchestrator answers, with the report of that moment", async () => {
    const sent: NodeCapabilityReport[] = [];
    const { done, sleeps } = registering(async (r) => {
      if (sleeps.length < 2) throw new Error("connection refused");
      sent.push(r);
    });
    await done;
    expect([sleeps, sent]).toEqual([[1000, 1000], [report]]);
  });

  it("fails at once when the orchestrator refuses", async () => {
    const { done, sleeps } = registering(async () => {
      throw new OrchestratorError(401, "registration failed: HTTP 401 Invalid registration PSK");
    });
    await expect(done).rejects.toThrow("registration failed: HTTP 401 Invalid registration PSK");
    expect(sleeps).toEqual([]);
  });
});
