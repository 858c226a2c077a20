/** Orchestrator configuration: environment (reference names and defaults, contracts 1.7) plus flags, validated once. */
import { homedir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { parseDuration } from "../lib/duration";
import { parseListenAddress } from "../lib/serve";

const isDuration = (s: string) => {
  try {
    return parseDuration(s) > 0;
  } catch {
    return false;
  }
};
const duration = (def: string) => v.pipe(v.optional(v.string(), def), v.check(isDuration, "must be a duration such as 30s, 15m or 168h"), v.transform(parseDuration));
const int = (def: number, min: number, max: number) =>
  v.pipe(v.optional(v.string(), String(def)), v.regex(/^\d+$/, "must be a whole number"), v.transform(Number), v.minValue(min), v.maxValue(max));
const listen = (def: string) =>
  v.pipe(v.optional(v.string(), def), v.check((s) => { try { return !!parseListenAddress(s); } catch { return false; } }, "must be [host]:port"), v.transform(parseListenAddress));
const optionalText = v.pipe(v.optional(v.string()), v.transform((s) => (s?.trim() ? s.trim() : undefined)));
const url = (def: string) => v.pipe(v.optional(v.string(), def), v.url("must be a URL"), v.transform((s) => s.replace(/\/+$/, "")));
const bool = (def: boolean) => v.pipe(v.optional(v.picklist(["true", "false", "1", "0"]), def ? "true" : "false"), v.transform((s) => s === "true" || s === "1"));

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
  LOGIN_MAX_FAILURES: int(5, 1, 1000),
  LOGIN_LOCKOUT_DURATION: duration("15m"),
  BOOTSTRAP_ADMIN_PASSWORD: optionalText,
  NODE_REGISTRATION_PSK: optionalText,
  ORCHESTRATOR_SECRET_KEY: optionalText,
  ORCHESTRATOR_PUBLIC_URL: url("http://localhost:12082"),
  WORKER_API_TARGET_URL: optionalText,
  SANDBOX_IMAGE: v.optional(v.string(), "localhost/cynode-sandbox:latest"),
  INFERENCE_MODEL: v.optional(v.string(), "qwen3.5:0.8b"),
  DISPATCHER_ENABLED: bool(true),
  DISPATCH_POLL_INTERVAL: duration("1s"),
  DISPATCH_HTTP_TIMEOUT: duration("3h5m"),
  MAX_REQUEST_BODY_MB: int(10, 1, 1024),
  TRUST_PROXY_HEADERS: bool(false),
  LOG_LEVEL: v.optional(v.picklist(["debug", "info", "warn", "error"]), "info"),
});
export type OrchestratorConfig = v.InferOutput<typeof OrchestratorEnv>;

/** root → /var/lib/cynode/orchestrator; others → $XDG_STATE_HOME/cynode/orchestrator (~/.local/state by default). */
export function defaultStateDir(env: Record<string, string | undefined>, uid = process.getuid?.() ?? 0): string {
  if (uid === 0) return "/var/lib/cynode/orchestrator";
  return join(env.XDG_STATE_HOME || join(homedir(), ".local", "state"), "cynode", "orchestrator");
}

/** Validates env + flags; throws one error listing every problem. */
export function loadConfig(env: Record<string, string | undefined>, flags: { stateDir?: string } = {}): OrchestratorConfig {
  const input: Record<string, string | undefined> = { ...env, CYNODE_STATE_DIR: flags.stateDir || env.CYNODE_STATE_DIR || defaultStateDir(env) };
  // Generic LISTEN_ADDR is the reference's fallback for the gateway.
  if (!input.USER_GATEWAY_LISTEN_ADDR && env.LISTEN_ADDR) input.USER_GATEWAY_LISTEN_ADDR = env.LISTEN_ADDR;
  const r = v.safeParse(OrchestratorEnv, input);
  if (r.success) return r.output;
  const problems = r.issues.map((i) => `  ${v.getDotPath(i) ?? "config"}: ${i.message}`);
  throw new Error(`invalid configuration:\n${problems.join("\n")}`);
}
