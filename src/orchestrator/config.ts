/** Orchestrator configuration: environment (reference names and defaults, contracts 1.7) plus flags, validated once. */
import { parseHostList } from "../lib/egress-hosts";
import { homedir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { DEFAULT_TRUSTED_PROXIES, parseTrustedProxies } from "../lib/client-address";
import { durationVar as duration, listenVar as listen, logLevelVar, wholeNumberVar as int } from "../lib/env-vars";

const optionalText = v.pipe(
  v.optional(v.string()),
  v.transform((s) => (s?.trim() ? s.trim() : undefined)),
);
/** A whole number at least `min`, or undefined when unset or empty (no limit). */
const optionalWholeNumber = (min: number) =>
  v.pipe(
    optionalText,
    v.check((s) => s === undefined || /^\d+$/.test(s), "must be a whole number"),
    v.transform((s) => (s === undefined ? undefined : Number(s))),
    v.check((n) => n === undefined || n >= min, `must be at least ${min}`),
  );
const url = (def: string) =>
  v.pipe(
    v.optional(v.string(), def),
    v.url("must be a URL"),
    v.transform((s) => s.replace(/\/+$/, "")),
  );
const bool = (def: boolean) =>
  v.pipe(
    v.optional(v.picklist(["true", "false", "1", "0"]), def ? "true" : "false"),
    v.transform((s) => s === "true" || s === "1"),
  );

export const OrchestratorEnv = v.object({
  CYNODE_STATE_DIR: v.string(),
  DATABASE_URL: optionalText,
  USER_GATEWAY_LISTEN_ADDR: listen(":12080"),
  CONTROL_PLANE_LISTEN_ADDR: listen(":12082"),
  JWT_SECRET: optionalText,
  JWT_ACCESS_DURATION: duration("15m"),
  JWT_REFRESH_DURATION: duration("168h"),
  JWT_NODE_DURATION: duration("24h"),
  RATE_LIMIT_PER_MINUTE: int(60, 1, 100_000),
  CHAT_RATE_LIMIT_PER_MINUTE: int(60, 1, 100_000),
  CHAT_MAX_IN_FLIGHT_PER_USER: int(4, 1, 10_000),
  CHAT_MAX_TOKENS: int(4096, 1, 1_000_000),
  MAX_ACTIVE_TASKS_PER_USER: optionalWholeNumber(1),
  LOGIN_MAX_FAILURES: int(5, 1, 1000),
  LOGIN_LOCKOUT_DURATION: duration("15m"),
  BOOTSTRAP_ADMIN_PASSWORD: optionalText,
  NODE_REGISTRATION_PSK: optionalText,
  ORCHESTRATOR_SECRET_KEY: optionalText,
  ORCHESTRATOR_PUBLIC_URL: url("http://localhost:12082"),
  WORKER_API_TARGET_URL: optionalText,
  WORKER_API_BEARER_TOKEN: optionalText,
  /** When set, the workflow routes want exactly this bearer token (reference-agents 4); unset, they are open. */
  WORKFLOW_RUNNER_BEARER_TOKEN: optionalText,
  SANDBOX_IMAGE: v.optional(v.string(), "localhost/cynode-sandbox:latest"),
  INFERENCE_MODEL: v.optional(v.string(), "qwen3.5:0.8b"),
  /** Hosts tasks may ask to reach (decision 28): host[:port], *.domain[:port] or addresses, comma-separated. */
  EGRESS_ALLOWED_HOSTS: v.pipe(
    v.optional(v.string(), ""),
    v.check((s) => parseHostList(s).invalid.length === 0, "must be host[:port], *.domain[:port] or IP entries"),
    v.transform((s) => parseHostList(s).entries),
  ),
  DISPATCHER_ENABLED: bool(true),
  DISPATCH_POLL_INTERVAL: duration("1s"),
  /** The chat agent's run lease: how long after an orchestrator died another takes its pending work over. */
  CHAT_AGENT_LEASE_DURATION: duration("60s"),
  DISPATCH_HTTP_TIMEOUT: duration("3h5m"),
  MAX_REQUEST_BODY_MB: int(10, 1, 1024),
  /** Uploaded attachments per task and the size of each (decision 23). */
  MAX_TASK_ATTACHMENTS: int(16, 1, 1000),
  MAX_ATTACHMENT_MB: int(10, 1, 1024),
  /** The largest artifact a node may store with its task (the node caps a job's total: sandbox.max_artifacts_mb). */
  MAX_ARTIFACT_MB: int(100, 1, 10240),
  /** How long an ended task's artifacts are kept; a task's files always go with it. */
  ARTIFACT_RETENTION: duration("720h"),
  TRUST_PROXY_HEADERS: bool(false),
  USER_GATEWAY_TLS_CERT_FILE: optionalText,
  USER_GATEWAY_TLS_KEY_FILE: optionalText,
  CONTROL_PLANE_TLS_CERT_FILE: optionalText,
  CONTROL_PLANE_TLS_KEY_FILE: optionalText,
  /** The CA that issued the certificates: served at /v1/cluster/ca, trusted for the nodes' Worker APIs. */
  ORCHESTRATOR_TLS_CA_FILE: optionalText,
  /** `auto`: the orchestrator's own CA and certificates in its state dir (the `--tls` flag). */
  ORCHESTRATOR_TLS: v.optional(v.picklist(["off", "auto"], "must be off or auto"), "off"),
  /** Comma-separated IPs/CIDRs of the proxies whose X-Forwarded-For entries count (client-address.ts). */
  TRUSTED_PROXIES: v.pipe(
    v.optional(v.string(), DEFAULT_TRUSTED_PROXIES),
    v.check((s) => {
      try {
        parseTrustedProxies(s);
        return true;
      } catch {
        return false;
      }
    }, "must be comma-separated IP addresses or CIDR ranges"),
  ),
  LOG_LEVEL: logLevelVar,
});
export type OrchestratorConfig = v.InferOutput<typeof OrchestratorEnv>;

/** A certificate file without its key (or the reverse) is a mistake, not plain HTTP. */
function pairProblems(env: Record<string, string | undefined>): string[] {
  return ["USER_GATEWAY_TLS", "CONTROL_PLANE_TLS"].flatMap((p) =>
    !env[`${p}_CERT_FILE`]?.trim() !== !env[`${p}_KEY_FILE`]?.trim()
      ? [`  ${p}_CERT_FILE: ${p}_CERT_FILE and ${p}_KEY_FILE go together`]
      : [],
  );
}

/** root → /var/lib/cynode/orchestrator; others → $XDG_STATE_HOME/cynode/orchestrator (~/.local/state by default). */
export function defaultStateDir(env: Record<string, string | undefined>, uid = process.getuid?.() ?? 0): string {
  if (uid === 0) return "/var/lib/cynode/orchestrator";
  return join(env.XDG_STATE_HOME || join(homedir(), ".local", "state"), "cynode", "orchestrator");
}

/** Validates env + flags; throws one error listing every problem. */
export function loadConfig(
  env: Record<string, string | undefined>,
  flags: { stateDir?: string; tls?: string } = {},
): OrchestratorConfig {
  const input: Record<string, string | undefined> = {
    ...env,
    CYNODE_STATE_DIR: flags.stateDir || env.CYNODE_STATE_DIR || defaultStateDir(env),
    ORCHESTRATOR_TLS: flags.tls || env.ORCHESTRATOR_TLS || undefined,
  };
  // With its own certificates the control-plane speaks only HTTPS: the URL nodes are given says so.
  if (input.ORCHESTRATOR_TLS === "auto")
    input.ORCHESTRATOR_PUBLIC_URL = (input.ORCHESTRATOR_PUBLIC_URL || "http://localhost:12082").replace(
      /^http:/i,
      "https:",
    );
  // Generic LISTEN_ADDR is the reference's fallback for the gateway.
  if (!input.USER_GATEWAY_LISTEN_ADDR && env.LISTEN_ADDR) input.USER_GATEWAY_LISTEN_ADDR = env.LISTEN_ADDR;
  const r = v.safeParse(OrchestratorEnv, input);
  const pairs = pairProblems(input);
  if (r.success && !pairs.length) return r.output;
  const problems = [...(r.issues ?? []).map((i) => `  ${v.getDotPath(i) ?? "config"}: ${i.message}`), ...pairs];
  throw new Error(`invalid configuration:\n${problems.join("\n")}`);
}
