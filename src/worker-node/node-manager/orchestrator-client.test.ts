import { describe, expect, it } from "bun:test";
import type { NodeCapabilityReport } from "../../contracts/node-payloads";
import { createLogger } from "../../lib/log";
import { createOrchestratorClient, OrchestratorError } from "./orchestrator-client";

const report = { version: 1, node: { node_slug: "n1" } } as unknown as NodeCapabilityReport;
const bootstrap = {
  version: 1,
  issued_at: "2026-01-01T00:00:00Z",
  orchestrator: {
    base_url: "http://cp",
    endpoints: {
      worker_registration_url: "http://cp/v1/nodes/register",
      node_report_url: "http://cp/v1/nodes/capability",
      node_config_url: "http://cp/v1/nodes/config",
    },
  },
  auth: { node_jwt: "jwt", expires_at: "2026-01-02T00:00:00Z" },
};

/** A client whose control-plane answers each request with the next body of `answers` (status 200). */
function clientAnswering(...answers: unknown[]) {
  const fetch = (async () => Response.json(answers.shift())) as unknown as typeof globalThis.fetch;
  return createOrchestratorClient({
    baseUrl: "http://cp",
    psk: "psk",
    requestTimeoutMs: 1000,
    log: createLogger({ name: "test", level: "error" }),
    fetch,
  });
}

describe("orchestrator client", () => {
  it("refuses a bootstrap payload that is not the contract's, naming what is wrong", async () => {
    const err = await clientAnswering({ version: 1 })
      .register(report)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OrchestratorError);
    expect((err as Error).message).toStartWith("registration failed: invalid bootstrap payload (");
  });

  it("refuses a node configuration that is not the contract's, naming what is wrong", async () => {
    const client = clientAnswering(bootstrap, { version: 1 });
    await client.register(report);
    const err = await client.fetchConfig().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OrchestratorError);
    expect((err as Error).message).toStartWith("config fetch failed: invalid node configuration (");
  });
});
