/**
 * The orchestrator's configuration (contracts 3.1 steps 6, 8 and 9, 2.5): fetch it, apply it, start the inference
 * it asks for, then ack `applied`. A step that fails acks `failed` with its reason and ends the start.
 */
import type { NodeConfigAck, NodeConfigurationPayload } from "../../contracts/node-payloads";
import { rfc3339 } from "../../lib/rfc3339";
import type { InferenceService } from "../inference/service";
import type { SandboxSettings } from "../sandbox/run-job";
import { applyNodeConfig } from "./apply-config";
import type { NodeContext } from "./node-context";
import type { OrchestratorClient } from "./orchestrator-client";

export type ConfigurationParts = {
  client: Pick<OrchestratorClient, "fetchConfig" | "ack">;
  inference: Pick<InferenceService, "start">;
  /** The runner's settings: the images both policies allow replace the node's own list. */
  settings: Pick<SandboxSettings, "allowedImages">;
};

export async function configureNode(
  { config, state, now }: NodeContext,
  d: ConfigurationParts,
): Promise<NodeConfigurationPayload> {
  const { client } = d;
  state.notReady = "starting: fetching the node configuration";
  const payload = await client.fetchConfig();
  const ack = (status: NodeConfigAck["status"], error?: NodeConfigAck["error"]) =>
    client.ack({
      version: 1,
      node_slug: config.node.id,
      config_version: payload.config_version,
      ack_at: rfc3339(now()),
      status,
      ...(error ? { error } : {}),
    });
  /** Runs a step; when it throws, acks `failed` with `type` and the step's message, then throws `reason(message)`. */
  const orFail = async <T>(type: string, reason: (message: string) => string, step: () => T | Promise<T>) => {
    try {
      return await step();
    } catch (err) {
      const message = (err as Error).message;
      await ack("failed", { type, message });
      throw new Error(reason(message));
    }
  };

  state.applied = await orFail(
    "config_apply_failed",
    (m) => `node configuration ${payload.config_version} could not be applied: ${m}`,
    () => applyNodeConfig(config, payload, now()),
  );
  d.settings.allowedImages = state.applied.allowedImages;
  state.notReady = "starting: local inference";
  await orFail(
    "inference_start_failed",
    (m) => `inference could not be started: ${m}`,
    () => d.inference.start(payload.inference_backend),
  );
  await ack("applied");
  return payload;
}
