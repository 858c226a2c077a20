/** What the node takes from the orchestrator's config (contracts 2.4); local YAML may only make it stricter. */
import type { NodeConfigurationPayload } from "../../contracts/node-payloads";
import type { NodeConfig } from "../config";

export type AppliedConfig = {
  bearerToken: string;
  maxRequestBytes: number;
  maxJobTimeoutSeconds?: number;
  allowedImages: string[];
};

const minDefined = (...xs: (number | undefined)[]) =>
  Math.min(...xs.filter((x): x is number => typeof x === "number" && x > 0));

/** Throws with the reason the node refuses the config (sent back in a `failed` ack). */
export function applyNodeConfig(local: NodeConfig, payload: NodeConfigurationPayload, now: Date): AppliedConfig {
  if (payload.node_slug !== local.node.id)
    throw new Error(`config is for node ${payload.node_slug}, not ${local.node.id}`);
  const token = payload.worker_api?.orchestrator_bearer_token;
  if (!token) throw new Error("config has no worker_api.orchestrator_bearer_token");
  const expires = payload.worker_api?.orchestrator_bearer_token_expires_at;
  if (expires && Date.parse(expires) <= now.getTime()) throw new Error(`worker API bearer token expired at ${expires}`);
  const policy = payload.policy?.sandbox?.allowed_images ?? [];
  const mine = local.sandbox.allowed_images;
  const allowedImages =
    mine.length && policy.length ? mine.filter((i) => policy.includes(i)) : mine.length ? mine : policy;
  if ((mine.length || policy.length) && allowedImages.length === 0)
    throw new Error("no sandbox image is allowed by both node and orchestrator policy");
  return {
    bearerToken: token,
    maxRequestBytes: minDefined(local.worker_api.max_request_bytes, payload.constraints?.max_request_bytes),
    maxJobTimeoutSeconds: payload.constraints?.max_job_timeout_seconds,
    allowedImages,
  };
}
