/**
 * TEST SUPPORT: a worker node's two configurations — its own (node YAML in a fresh temp dir, loaded as the node
 * loads it) and the orchestrator's node configuration payload.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NodeConfigurationPayload } from "../contracts/node-payloads";
import { memoryLogger } from "../lib/log";
import { loadNodeConfig, type NodeConfig } from "../worker-node/config";
import type { NodeContext, NodeState } from "../worker-node/node-manager/node-context";

export const TEST_NODE_PSK = "test-node-psk";

/** `yaml` is the node YAML; `env` overrides (reference names). The state dir is `<temp dir>/state` unless set. */
export async function testNodeConfig(o: { yaml?: string; env?: Record<string, string> } = {}): Promise<NodeConfig> {
  const dir = await mkdtemp(join(tmpdir(), "cynode-node-"));
  await writeFile(join(dir, "node.yaml"), o.yaml ?? "");
  return loadNodeConfig({
    path: join(dir, "node.yaml"),
    env: { NODE_REGISTRATION_PSK: TEST_NODE_PSK, CYNODE_STATE_DIR: join(dir, "state"), ...o.env },
  });
}

/** A start-up part's context: a node that is starting, a logger keeping its lines, a fixed clock. */
export function testNodeContext(config: NodeConfig, state: NodeState = { notReady: "starting" }) {
  return {
    config,
    state,
    log: memoryLogger("node"),
    now: () => new Date("2026-03-01T10:00:00Z"),
  } satisfies NodeContext;
}

/** A valid configuration for node `n1` with the bearer token `tok`; `extra` replaces top-level fields. */
export function nodeConfigPayload(extra: Partial<NodeConfigurationPayload> = {}): NodeConfigurationPayload {
  return {
    version: 1,
    config_version: "01J0000000000000000000000A",
    issued_at: "2026-03-01T10:00:00Z",
    node_slug: "n1",
    orchestrator: {
      base_url: "http://o",
      endpoints: { worker_api_target_url: "http://n1:12090", node_report_url: "http://o/v1/nodes/capability" },
    },
    model_cache: { cache_url: "" },
    worker_api: { orchestrator_bearer_token: "tok" },
    ...extra,
  };
}
