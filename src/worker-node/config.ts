/**
 * Node configuration: node YAML (contracts 3.3) with environment overrides, validated once by one schema.
 * The PSK comes from an environment variable or a file, never from the YAML itself.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as v from "valibot";
import { INFERENCE_MODES } from "../contracts/node-payloads";
import { MAX_REQUEST_BODY_BYTES } from "../contracts/route";
import { MODEL_NAME_RE, NETWORK_POLICIES } from "../contracts/worker-api";
import { parseDuration } from "../lib/duration";
import { parses } from "../lib/env-vars";
import { parseCaPin } from "../lib/tls-fetch";
import { DEFAULT_INFERENCE_LIMITS, type InferenceLimits } from "../lib/inference-request";

export const DEFAULT_CONFIG_PATH = "/etc/cynode/node.yaml";

const int = (def: number, min = 1) =>
  v.optional(v.pipe(v.number("must be a number"), v.integer("must be a whole number"), v.minValue(min)), def);
const positive = (def: number) => v.optional(v.pipe(v.number("must be a number"), v.minValue(0.01)), def);
const strings = v.optional(v.array(v.string()), []);
const validDuration = parses(parseDuration);
/** The managed Ollama's default image: a released version, so every node of a cluster runs the same Ollama. */
export const DEFAULT_OLLAMA_IMAGE = "docker.io/ollama/ollama:0.24.0";
const IMAGE_NAME = /^(?:[A-Za-z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*$/;
const PINNED_IMAGE_PROBLEM = "must be an image reference with a tag or digest (e.g. docker.io/ollama/ollama:0.24.0)";
/** `name:tag`, `name@sha256:<hex>` or both; a bare name (an implied `latest`) or an option-like string is refused. */
export function isPinnedImage(ref: string): boolean {
  const m = /^(.+?)(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@sha256:[a-f0-9]{64})?$/.exec(ref);
  if (!m || !IMAGE_NAME.test(m[1]!)) return false;
  return m[2] !== undefined || ref.includes("@sha256:");
}
const slug = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, "must be letters, digits, '.', '_' or '-'"),
);

export const NodeConfigSchema = v.object({
  orchestrator: v.object({
    url: v.pipe(
      v.optional(v.string(), "http://localhost:12082"),
      v.url("must be a URL"),
      v.transform((s) => s.replace(/\/+$/, "")),
    ),
    registration_psk_env: v.optional(v.string(), "NODE_REGISTRATION_PSK"),
    /** PEM CA trusted for the control-plane (instead of the system roots). */
    ca_file: v.optional(v.string()),
    /** `sha256:<hex>` of the cluster CA's DER (what `orchestrator join-command` prints). */
    ca_sha256: v.optional(
      v.pipe(
        v.string(),
        v.check((s) => parseCaPin(s) !== undefined, "must be sha256:<64 hex digits>"),
        v.transform((s) => parseCaPin(s)!),
      ),
    ),
    registration_psk_file: v.optional(v.string()),
    timeouts: v.optional(v.object({ connect_seconds: int(90), request_seconds: int(10) }), {}),
    capability_report_interval_seconds: int(60),
  }),
  node: v.object({ id: v.optional(slug, "node-01"), name: v.optional(v.string(), "Default Node"), labels: strings }),
  worker_api: v.optional(
    v.object({
      listen_host: v.optional(v.string(), "0.0.0.0"),
      listen_port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535)), 12090),
      public_base_url: v.optional(v.pipe(v.string(), v.url("must be a URL"))),
      max_request_bytes: int(MAX_REQUEST_BODY_BYTES),
      /** PEM certificate and key: the Worker API serves HTTPS only. */
      tls: v.optional(v.object({ cert_file: v.string(), key_file: v.string() })),
    }),
    {},
  ),
  sandbox: v.optional(
    v.object({
      mode: v.optional(v.picklist(["allow", "sandbox_only", "disabled"]), "allow"),
      runtime: v.optional(v.picklist(["podman"], "only podman is supported"), "podman"),
      default_image: v.optional(v.string(), "localhost/cynode-sandbox:latest"),
      allowed_images: strings,
      default_network_policy: v.optional(v.picklist(NETWORK_POLICIES), "none"),
      timeouts: v.optional(v.object({ default_seconds: int(3600), max_seconds: int(10800) }), {}),
      mount_root: v.optional(v.string()),
      resources: v.optional(
        v.object({
          max_cpu_cores: positive(2),
          max_memory_mb: int(2048, 16),
          max_pids: int(512, 8),
          /** Size of each job's /workspace (a tmpfs, so it also counts against max_memory_mb). */
          max_disk_mb: int(1024),
        }),
        {},
      ),
      max_concurrency: int(4),
      /** Warm single-use sandboxes kept ready for jobs of the default image (0 turns them off). */
      warm_pool: int(2, 0),
      /** A warm sandbox (or pod) that waited this long is replaced by a fresh one. */
      warm_max_idle_seconds: int(900, 10),
      max_output_bytes: int(262144),
      /** What one job's /job/artifacts may bring back to its task; past it the rest is named, not stored. */
      max_artifacts_mb: int(100),
      containers_conf: v.optional(v.string()),
    }),
    {},
  ),
  inference: v.optional(
    v.object({
      mode: v.optional(v.picklist(INFERENCE_MODES), "allow"),
      /** Ollama's TCP address: reused when it answers, else where the managed container is published. */
      upstream_url: v.pipe(
        v.optional(v.string(), "http://127.0.0.1:11434"),
        v.url("must be a URL"),
        v.transform((s) => s.replace(/\/+$/, "")),
      ),
      /** Image of the managed Ollama when the orchestrator's config names none: pinned, never an implied `latest`. */
      ollama_image: v.pipe(v.optional(v.string(), DEFAULT_OLLAMA_IMAGE), v.check(isPinnedImage, PINNED_IMAGE_PROBLEM)),
      models_volume: v.optional(v.string(), "cynodeai-ollama-models"),
      start_timeout_seconds: int(120),
      proxy_image: v.optional(v.string(), "localhost/cynode-inference-proxy:latest"),
      /** The inference-proxy executable the sidecar image is built from (default: beside worker-node). */
      proxy_binary: v.optional(v.string()),
      proxy_timeout_seconds: int(120),
      /** Warm inference pods (sidecar up, sandbox waiting) kept ready (0 turns them off). */
      warm_pods: int(1, 0),
      /** The models a job may use when its request names none; warm pods allow exactly these. */
      default_models: v.optional(
        v.pipe(
          v.array(v.pipe(v.string(), v.regex(MODEL_NAME_RE, "must be model names"))),
          v.minLength(1, "must name at least one model"),
        ),
        ["qwen3.5:0.8b"],
      ),
      /** Ceilings the sidecar (and the Worker API's chat) clamps requests to: tokens generated, context, keep-alive. */
      max_tokens: int(DEFAULT_INFERENCE_LIMITS.maxTokens),
      max_context: int(DEFAULT_INFERENCE_LIMITS.maxContext),
      max_keep_alive: v.optional(
        v.pipe(v.string(), v.check(validDuration, "must be a duration such as 5m")),
        DEFAULT_INFERENCE_LIMITS.keepAlive,
      ),
      /** Connections one job's sidecar serves at once. */
      proxy_max_connections: int(16),
    }),
    {},
  ),
  storage: v.optional(v.object({ state_dir: v.optional(v.string(), "/var/lib/cynode/state") }), {}),
});

export type NodeConfig = v.InferOutput<typeof NodeConfigSchema> & {
  psk: string;
  /** Resolved: `sandbox.mount_root` or `<state_dir>/sandbox_mounts`. */
  mountRoot: string;
};

export class ConfigError extends Error {}

/** The option ceilings of `inference` as the clamp takes them. */
export const inferenceLimits = (c: Pick<NodeConfig, "inference">): InferenceLimits => ({
  maxTokens: c.inference.max_tokens,
  maxContext: c.inference.max_context,
  keepAlive: c.inference.max_keep_alive,
});

type Env = Record<string, string | undefined>;
type Raw = Record<string, Record<string, unknown>>;

/** The plain string overrides: environment name (the reference's) to its `[section, key]` in the YAML tree. */
const ENV_KEYS: Record<string, [section: string, key: string]> = {
  ORCHESTRATOR_URL: ["orchestrator", "url"],
  ORCHESTRATOR_CA_FILE: ["orchestrator", "ca_file"],
  ORCHESTRATOR_CA_SHA256: ["orchestrator", "ca_sha256"],
  NODE_SLUG: ["node", "id"],
  NODE_NAME: ["node", "name"],
  NODE_ADVERTISED_WORKER_API_URL: ["worker_api", "public_base_url"],
  CYNODE_STATE_DIR: ["storage", "state_dir"],
  CYNODE_SANDBOX_MOUNT_ROOT: ["sandbox", "mount_root"],
  CYNODE_CONTAINERS_CONF: ["sandbox", "containers_conf"],
  SANDBOX_IMAGE: ["sandbox", "default_image"],
  OLLAMA_UPSTREAM_URL: ["inference", "upstream_url"],
  OLLAMA_IMAGE: ["inference", "ollama_image"],
  OLLAMA_MODELS_VOLUME: ["inference", "models_volume"],
  INFERENCE_PROXY_IMAGE: ["inference", "proxy_image"],
  INFERENCE_PROXY_BINARY: ["inference", "proxy_binary"],
};

/** Environment overrides (reference names) written into the raw YAML tree before validation. */
function applyEnv(raw: Raw, env: Env, problems: string[]): void {
  const set = (section: string, key: string, value: unknown) => {
    if (value !== undefined && value !== "") raw[section] = { ...raw[section], [key]: value };
  };
  const num = (name: string) => {
    const s = env[name];
    if (s === undefined || s === "") return undefined;
    if (!/^\d+$/.test(s)) problems.push(`${name}: must be a whole number`);
    return Number(s);
  };
  for (const [name, [section, key]] of Object.entries(ENV_KEYS)) set(section, key, env[name]);
  set("worker_api", "listen_port", num("WORKER_API_PORT"));
  if (env.CAPABILITY_REPORT_INTERVAL) {
    try {
      set(
        "orchestrator",
        "capability_report_interval_seconds",
        Math.max(1, Math.round(parseDuration(env.CAPABILITY_REPORT_INTERVAL) / 1000)),
      );
    } catch {
      problems.push("CAPABILITY_REPORT_INTERVAL: must be a duration such as 60s");
    }
  }
}

/** Loads, overrides and validates; throws one ConfigError listing every problem. */
export async function loadNodeConfig(opts: { path?: string; env: Env; defaultPath?: string }): Promise<NodeConfig> {
  const path = opts.path ?? opts.defaultPath ?? DEFAULT_CONFIG_PATH;
  let doc: unknown = {};
  const text = await readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (opts.path || err.code !== "ENOENT") throw new ConfigError(`cannot read ${path}: ${err.message}`);
    return "";
  });
  try {
    doc = Bun.YAML.parse(text) ?? {};
  } catch (err) {
    throw new ConfigError(`${path} is not valid YAML: ${(err as Error).message}`);
  }
  if (typeof doc !== "object" || Array.isArray(doc)) throw new ConfigError(`${path} must hold a YAML mapping`);
  const raw: Raw = { orchestrator: {}, node: {}, ...(doc as Raw) };
  const problems: string[] = [];
  if (raw.orchestrator && ("registration_psk" in raw.orchestrator || "psk" in raw.orchestrator)) {
    problems.push(
      "orchestrator.registration_psk: the PSK must not be inline; use registration_psk_env or registration_psk_file",
    );
  }
  applyEnv(raw, opts.env, problems);
  const parsed = v.safeParse(NodeConfigSchema, raw);
  if (!parsed.success) for (const i of parsed.issues) problems.push(`${v.getDotPath(i) ?? "(root)"}: ${i.message}`);
  if (problems.length || !parsed.success)
    throw new ConfigError(`invalid node configuration:\n  ${problems.join("\n  ")}`);
  const cfg = parsed.output;
  const psk = await readPsk(cfg.orchestrator, opts.env);
  return { ...cfg, psk, mountRoot: cfg.sandbox.mount_root ?? join(cfg.storage.state_dir, "sandbox_mounts") };
}

async function readPsk(o: { registration_psk_env: string; registration_psk_file?: string }, env: Env): Promise<string> {
  if (o.registration_psk_file) {
    const psk = (
      await readFile(o.registration_psk_file, "utf8").catch((e: Error) => {
        throw new ConfigError(`cannot read orchestrator.registration_psk_file: ${e.message}`);
      })
    ).trim();
    if (psk) return psk;
    throw new ConfigError(`orchestrator.registration_psk_file ${o.registration_psk_file} is empty`);
  }
  const psk = env[o.registration_psk_env]?.trim();
  if (!psk)
    throw new ConfigError(
      `the registration PSK is missing: set ${o.registration_psk_env} or orchestrator.registration_psk_file`,
    );
  return psk;
}
