import { describe, expect, it } from "bun:test";
import * as v from "valibot";
import { NODE_ERRORS, NodeCapabilityReport, NodeConfigAck, RegistrationRequest } from "./node-payloads";

const report = {
  version: 1,
  reported_at: "2026-02-16T12:00:00Z",
  node: { node_slug: "node-01" },
  platform: { os: "linux", arch: "amd64" },
  compute: { cpu_cores: 4, ram_mb: 4096 },
  future_field: { kept: true },
};

const firstMessage = (schema: v.GenericSchema, input: unknown) => v.safeParse(schema, input).issues?.[0]?.message;

describe("node_capability_report_v1", () => {
  it("accepts a minimal report and keeps fields added by later nodes", () => {
    const parsed = v.parse(NodeCapabilityReport, report);
    expect(parsed.node.node_slug).toBe("node-01");
    expect((parsed as Record<string, unknown>).future_field).toEqual({ kept: true });
  });

  it("names the reference detail for a wrong version and an empty slug", () => {
    expect(firstMessage(NodeCapabilityReport, { ...report, version: 2 })).toBe(NODE_ERRORS.capabilityVersion);
    expect(firstMessage(NodeCapabilityReport, { ...report, node: { node_slug: " " } })).toBe(NODE_ERRORS.slugRequired);
    expect(firstMessage(RegistrationRequest, { psk: "x", capability: { ...report, node: {} } })).toBe(
      NODE_ERRORS.slugRequired,
    );
  });
});

describe("node_config_ack_v1", () => {
  const ack = { version: 1, node_slug: "node-01", config_version: "01J0000000000000000000000A", status: "applied" };
  it("accepts applied and failed acks only", () => {
    expect(v.is(NodeConfigAck, ack)).toBe(true);
    expect(firstMessage(NodeConfigAck, { ...ack, status: "rolled_back" })).toBe(NODE_ERRORS.ackStatus);
    expect(firstMessage(NodeConfigAck, { ...ack, version: 2 })).toBe(NODE_ERRORS.ackVersion);
  });
});
