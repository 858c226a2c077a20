import { describe, expect, it } from "bun:test";
import type { InferenceBackend, NodeConfigAck, NodeConfigurationPayload } from "../../contracts/node-payloads";
import { nodeConfigPayload, testNodeConfig, testNodeContext } from "../../testing/node-config";
import { configureNode } from "./node-configuration";

const config = await testNodeConfig({
  yaml: "sandbox: { allowed_images: [localhost/mine:latest] }\n",
  env: { NODE_SLUG: "n1" },
});
const backend: InferenceBackend = { enabled: true, image: "ollama/ollama" };

/** Configures against an orchestrator that hands out `payload`, with an inference start that may fail. */
async function configure(payload: NodeConfigurationPayload, inferenceStart: () => Promise<void> = async () => {}) {
  const acks: NodeConfigAck[] = [];
  const started: (InferenceBackend | undefined)[] = [];
  const ctx = testNodeContext(config);
  const { state } = ctx;
  const settings = { allowedImages: [] as string[] };
  const phases: (string | null)[] = [];
  const result = configureNode(ctx, {
    client: {
      fetchConfig: async () => {
        phases.push(state.notReady);
        return payload;
      },
      ack: async (a) => void acks.push(a),
    },
    inference: {
      start: async (b) => {
        phases.push(state.notReady);
        started.push(b);
        await inferenceStart();
      },
    },
    settings,
  });
  return { result, acks, started, state, settings, phases };
}

describe("configureNode", () => {
  it("applies the config, starts the inference it names, and acks applied", async () => {
    const payload = nodeConfigPayload({
      inference_backend: backend,
      policy: { sandbox: { allowed_images: ["localhost/mine:latest", "localhost/theirs:latest"] } },
    });
    const c = await configure(payload);
    expect(await c.result).toBe(payload);
    expect(c.phases).toEqual(["starting: fetching the node configuration", "starting: local inference"]);
    expect(c.started).toEqual([backend]);
    expect(c.state.applied?.bearerToken).toBe("tok");
    expect(c.settings.allowedImages).toEqual(["localhost/mine:latest"]);
    expect(c.acks).toEqual([
      {
        version: 1,
        node_slug: "n1",
        config_version: payload.config_version,
        ack_at: "2026-03-01T10:00:00Z",
        status: "applied",
      },
    ]);
  });

  it("acks failed and starts nothing when the config cannot be applied", async () => {
    const c = await configure(nodeConfigPayload({ worker_api: {} }));
    await expect(c.result).rejects.toThrow(
      "node configuration 01J0000000000000000000000A could not be applied: config has no worker_api.orchestrator_bearer_token",
    );
    expect(c.started).toEqual([]);
    expect(c.state.applied).toBeUndefined();
    expect(c.acks.map((a) => [a.status, a.error])).toEqual([
      ["failed", { type: "config_apply_failed", message: "config has no worker_api.orchestrator_bearer_token" }],
    ]);
  });

  it("acks failed when the inference start fails", async () => {
    const c = await configure(nodeConfigPayload({ inference_backend: backend }), async () => {
      throw new Error("cannot start Ollama container");
    });
    await expect(c.result).rejects.toThrow("inference could not be started: cannot start Ollama container");
    expect(c.acks.map((a) => [a.status, a.error])).toEqual([
      ["failed", { type: "inference_start_failed", message: "cannot start Ollama container" }],
    ]);
  });
});
