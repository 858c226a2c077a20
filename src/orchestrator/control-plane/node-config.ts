/**
 * Builds a node's `node_configuration_payload_v1`. The content (everything but its version, time and secret)
 * is hashed; a new ULID `config_version`, greater than the last one, is minted whenever that hash changes.
 */
import { incrementBase32, ulid } from "ulid";
import type { NodeConfigurationPayload, NodeConstraints, SandboxPolicy } from "../../contracts/node-payloads";
import { MAX_REQUEST_BODY_BYTES } from "../../contracts/route";
import { CONTROL_PLANE_API } from "../../contracts/routes";
import { rfc3339 } from "../../lib/rfc3339";
import type { Db } from "../db/connect";
import { latestCapabilities, setConfigVersion } from "../db/nodes";
import type { Node } from "../db/schema";
import { contentHash } from "./canonical-hash";
import { deriveInferenceBackend } from "./inference-backend";

export const DEFAULT_CONSTRAINTS: NodeConstraints = {
  max_request_bytes: MAX_REQUEST_BODY_BYTES,
  max_job_timeout_seconds: 10800,
};
export const DEFAULT_SANDBOX_POLICY: SandboxPolicy = {
  default_network_policy: "none",
  allow_privileged: false,
  allow_host_network: false,
};

export type NodeConfigOptions = {
  publicUrl: string;
  inferenceModel?: string;
  constraints?: NodeConstraints;
  sandboxPolicy?: SandboxPolicy;
};

export const baseUrlOf = (publicUrl: string) => publicUrl.trim().replace(/\/+$/, "");

/** A ULID for `now` that sorts after `previous`, even if the clock went back or two mint in one millisecond. */
export function nextConfigVersion(previous: string | null, now: Date): string {
  const candidate = ulid(now.getTime());
  return previous && candidate <= previous ? incrementBase32(previous) : candidate;
}

export async function buildNodeConfig(
  db: Db,
  node: Node,
  workerToken: string,
  opts: NodeConfigOptions & { now: Date },
): Promise<NodeConfigurationPayload> {
  const base = baseUrlOf(opts.publicUrl);
  const report = (await latestCapabilities(db, [node.id])).get(node.id);
  const inference = deriveInferenceBackend(report, { model: opts.inferenceModel });
  const content = {
    node_slug: node.node_slug,
    orchestrator: {
      base_url: base,
      endpoints: {
        worker_api_target_url: node.worker_api_target_url ?? "",
        node_report_url: base + CONTROL_PLANE_API.capability.path(),
      },
    },
    model_cache: { cache_url: "" },
    policy: { sandbox: opts.sandboxPolicy ?? DEFAULT_SANDBOX_POLICY },
    constraints: opts.constraints ?? DEFAULT_CONSTRAINTS,
    ...(inference ? { inference_backend: inference } : {}),
  };
  const hash = contentHash(content);
  let version = node.config_version;
  if (!version || node.config_hash !== hash) {
    version = nextConfigVersion(version, opts.now);
    await setConfigVersion(db, { nodeId: node.id, version, hash, now: opts.now });
  }
  return {
    version: 1,
    config_version: version,
    issued_at: rfc3339(opts.now),
    ...content,
    worker_api: { orchestrator_bearer_token: workerToken },
  };
}
