/**
 * Node ↔ orchestrator payloads (control-plane :12082), shared by the control-plane and the node manager
 * (reference-contracts 1.2 and 2). Objects are loose where the contract says fields may be added later.
 */
import * as v from "valibot";
import { WorkerApiCsr, WorkerApiTls } from "./worker-api-tls";
import { LIMITS, List, Text, Timestamp as RequestTime } from "./storable";

/** Reference error details, also used as schema messages so a failed parse yields the documented detail. */
export const NODE_ERRORS = {
  badBody: "Invalid request body",
  badPsk: "Invalid registration PSK",
  capabilityVersion: "Unsupported capability version",
  slugRequired: "Node slug is required",
  ackVersion: "Unsupported config ack version",
  ackSlugMismatch: "node_slug does not match authenticated node",
  ackStatus: "status must be applied or failed",
  missingAuth: "Missing authorization header",
  badToken: "Invalid or expired token",
  nodeNotFound: "Node not found",
  identityTaken: "node slug is already registered to another key",
  identityRequired: "node slug is already registered to a key: the registration must carry a proof signed with it",
  proofInvalid: "node identity proof is invalid",
  proofReplayed: "node identity proof was already used",
  jobNotFound: "Job not found",
  jobNotOnNode: "Job is not running on this node",
  jobNotRunning: "Job is not running",
} as const;

const Timestamp = v.string();
const Int = v.pipe(v.number(), v.integer());

// ---- 2.1 node_capability_report_v1 and the registration request ----

export const GpuDevice = v.looseObject({
  vendor: v.optional(Text()),
  model: v.optional(Text()),
  device_id: v.optional(Text()),
  vram_mb: v.optional(Int),
  features: v.optional(v.record(Text(), v.unknown())),
});

export const INFERENCE_MODES = ["allow", "disabled", "require"] as const;

export const NodeCapabilityReport = v.looseObject({
  version: v.literal(1, NODE_ERRORS.capabilityVersion),
  reported_at: RequestTime,
  node: v.looseObject(
    {
      node_slug: v.pipe(Text(LIMITS.name, NODE_ERRORS.slugRequired), v.trim(), v.nonEmpty(NODE_ERRORS.slugRequired)),
      name: v.optional(Text()),
      labels: v.optional(List(Text())),
    },
    NODE_ERRORS.slugRequired,
  ),
  platform: v.looseObject({
    os: Text(),
    distro: v.optional(Text()),
    arch: Text(),
    kernel_version: v.optional(Text()),
  }),
  container_runtime: v.optional(
    v.looseObject({
      runtime: Text(),
      version: v.optional(Text()),
      rootless_supported: v.optional(v.boolean()),
      rootless_enabled: v.optional(v.boolean()),
    }),
  ),
  compute: v.looseObject({
    cpu_model: v.optional(Text()),
    cpu_cores: Int,
    ram_mb: Int,
    storage_free_mb: v.optional(Int),
  }),
  gpu: v.optional(v.looseObject({ present: v.boolean(), devices: v.optional(List(GpuDevice)) })),
  sandbox: v.optional(
    v.looseObject({
      supported: v.boolean(),
      features: v.optional(List(Text())),
      max_concurrency: v.optional(v.pipe(Int, v.minValue(1))),
    }),
  ),
  network: v.optional(
    v.looseObject({
      orchestrator_reachable: v.optional(v.boolean()),
      outbound_policy: v.optional(Text()),
    }),
  ),
  inference: v.optional(
    v.looseObject({
      supported: v.optional(v.boolean()),
      mode: v.optional(v.picklist(INFERENCE_MODES)),
      existing_service: v.optional(v.boolean()),
      running: v.optional(v.boolean()),
      available_models: v.optional(List(Text())),
    }),
  ),
  worker_api: v.optional(v.looseObject({ base_url: Text() })),
  tls: v.optional(
    v.looseObject({
      trust_material_status: v.optional(Text()),
      worker_api_server_cert_pem: v.optional(Text()),
    }),
  ),
});

// ---- node identity (decision 25): the key a node's slug is bound to at its first registration ----

/** `aud` of a registration proof: it is good for nothing but a node registration. */
export const NODE_PROOF_AUDIENCE = "cynodeai-node-registration";
/** JWS algorithm of node keys (ECDSA P-256, WebCrypto everywhere Bun runs, compiled binaries too). */
export const NODE_KEY_ALG = "ES256";
/** How long a proof may be used after it was made (it is single-use besides: `jti`). */
export const NODE_PROOF_MAX_AGE_SECONDS = 300;

const B64url = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/, "must be a 32-byte base64url coordinate"));

/** The node's public key (JWK, EC P-256, public part only). */
export const NodePublicKey = v.object({ kty: v.literal("EC"), crv: v.literal("P-256"), x: B64url, y: B64url });

/**
 * Proof of the node key: a compact JWS (ES256) by that key over the claims below; the orchestrator checks it with
 * the key sent, and that key against the one the slug is bound to.
 */
export const NodeIdentity = v.object({
  public_key: NodePublicKey,
  proof: v.pipe(Text(LIMITS.text), v.nonEmpty()),
});

/** Claims of a registration proof: the slug and Worker API URL it registers, when, and a one-time id. */
export const NodeProofClaims = v.object({
  sub: v.string(),
  aud: v.literal(NODE_PROOF_AUDIENCE),
  worker_api_url: v.string(),
  iat: v.number(),
  exp: v.number(),
  jti: v.pipe(v.string(), v.minLength(16), v.maxLength(LIMITS.name)),
});

export const RegistrationRequest = v.object({
  psk: Text(LIMITS.secret, NODE_ERRORS.badPsk),
  capability: NodeCapabilityReport,
  worker_api_csr: WorkerApiCsr,
  /** Required to re-register a slug bound to a key; a new slug (or one not bound yet) is bound to this key. */
  node_identity: v.optional(NodeIdentity),
});

// ---- 2.3 node_bootstrap_payload_v1 ----

export const NodeBootstrapPayload = v.object({
  version: v.literal(1),
  issued_at: Timestamp,
  orchestrator: v.object({
    base_url: v.string(),
    endpoints: v.object({
      worker_registration_url: v.string(),
      node_report_url: v.string(),
      node_config_url: v.string(),
    }),
  }),
  auth: v.object({ node_jwt: v.pipe(v.string(), v.nonEmpty()), expires_at: Timestamp }),
  initial_config_version: v.optional(v.string()),
  worker_api_tls: WorkerApiTls,
});

// ---- 2.4 node_configuration_payload_v1 ----

export const GPU_VARIANTS = ["cpu", "cuda", "rocm"] as const;

export const InferenceBackend = v.object({
  enabled: v.optional(v.boolean()),
  image: v.optional(v.string()),
  variant: v.optional(v.picklist(GPU_VARIANTS)),
  port: v.optional(Int),
  env: v.optional(v.record(v.string(), v.string())),
  selected_model: v.optional(v.string()),
});

export const SandboxPolicy = v.object({
  allowed_images: v.optional(v.array(v.string())),
  default_network_policy: v.optional(v.string()),
  allowed_egress_domains: v.optional(v.array(v.string())),
  allow_privileged: v.optional(v.boolean()),
  allow_host_network: v.optional(v.boolean()),
});

export const NodeConstraints = v.object({
  max_request_bytes: v.optional(Int),
  max_job_timeout_seconds: v.optional(Int),
});

/** ULID: 26 Crockford base32 characters; nodes compare versions lexicographically. */
export const ConfigVersion = v.pipe(v.string(), v.regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, "config_version must be a ULID"));

export const NodeConfigurationPayload = v.object({
  version: v.literal(1),
  config_version: ConfigVersion,
  issued_at: Timestamp,
  node_slug: v.string(),
  orchestrator: v.object({
    base_url: v.string(),
    endpoints: v.object({ worker_api_target_url: v.string(), node_report_url: v.string() }),
  }),
  sandbox_registries: v.optional(
    v.array(
      v.object({
        registry_url: v.string(),
        pull_token: v.optional(v.string()),
        pull_token_expires_at: v.optional(Timestamp),
      }),
    ),
  ),
  require_digest_pinning: v.optional(v.boolean()),
  model_cache: v.object({
    cache_url: v.string(),
    pull_token: v.optional(v.string()),
    pull_token_expires_at: v.optional(Timestamp),
  }),
  policy: v.optional(
    v.object({
      sandbox: v.optional(SandboxPolicy),
      updates: v.optional(
        v.object({
          enable_dynamic_config: v.optional(v.boolean()),
          poll_interval_seconds: v.optional(Int),
          allow_service_restart: v.optional(v.boolean()),
        }),
      ),
    }),
  ),
  worker_api: v.optional(
    v.object({
      orchestrator_bearer_token: v.optional(v.string()),
      orchestrator_bearer_token_expires_at: v.optional(Timestamp),
    }),
  ),
  inference_backend: v.optional(InferenceBackend),
  notes: v.optional(v.string()),
  constraints: v.optional(NodeConstraints),
});

// ---- 2.5 node_config_ack_v1 ----

export const CONFIG_ACK_STATUSES = ["applied", "failed"] as const;

export const NodeConfigAck = v.object({
  version: v.literal(1, NODE_ERRORS.ackVersion),
  node_slug: Text(LIMITS.name, NODE_ERRORS.ackSlugMismatch),
  config_version: Text(LIMITS.name),
  ack_at: v.optional(RequestTime),
  status: v.picklist(CONFIG_ACK_STATUSES, NODE_ERRORS.ackStatus),
  error: v.optional(
    v.object({
      type: Text(),
      message: Text(),
      details: v.optional(v.record(Text(), v.unknown())),
    }),
  ),
  effective_config_hash: v.optional(Text()),
});

export type NodeCapabilityReport = v.InferOutput<typeof NodeCapabilityReport>;
export type RegistrationRequest = v.InferOutput<typeof RegistrationRequest>;
export type NodePublicKey = v.InferOutput<typeof NodePublicKey>;
export type NodeIdentity = v.InferOutput<typeof NodeIdentity>;
export type NodeProofClaims = v.InferOutput<typeof NodeProofClaims>;
export type NodeBootstrapPayload = v.InferOutput<typeof NodeBootstrapPayload>;
export type InferenceBackend = v.InferOutput<typeof InferenceBackend>;
export type SandboxPolicy = v.InferOutput<typeof SandboxPolicy>;
export type NodeConstraints = v.InferOutput<typeof NodeConstraints>;
export type NodeConfigurationPayload = v.InferOutput<typeof NodeConfigurationPayload>;
export type NodeConfigAck = v.InferOutput<typeof NodeConfigAck>;
export type ConfigAckStatus = (typeof CONFIG_ACK_STATUSES)[number];

// ---- agent jobs: live step lines (decision 22) ----

/** Longest step line the control-plane keeps (characters); a longer one is cut. */
export const JOB_PROGRESS_LINE_CAP = 2000;
/** Lines a running job keeps at most; later ones are dropped after one marker line. */
export const JOB_PROGRESS_MAX_LINES = 1000;
/** Lines one report may carry. */
export const JOB_PROGRESS_BATCH_MAX = 100;

/** `POST /v1/nodes/jobs/{job_id}/progress`: one line per agent step, in order, from the node running the job. */
export const JobProgressReport = v.object({
  lines: List(Text(LIMITS.text), JOB_PROGRESS_BATCH_MAX),
});
export type JobProgressReport = v.InferOutput<typeof JobProgressReport>;
