/** inference-proxy configuration: environment plus flags, validated once by one schema. */
import * as v from "valibot";
import { durationVar, logLevelVar, parses, wholeNumberVar } from "../lib/env-vars";
import { parseListenAddress } from "../lib/serve";
import { MAX_REQUEST_BODY_BYTES } from "../contracts/route";
import { parseDuration } from "../lib/duration";
import { parseUpstream } from "../lib/http-upstream";
import { DEFAULT_INFERENCE_LIMITS } from "../lib/inference-request";
import { MAX_CONNECTIONS } from "./proxy-app";

// `none` (or empty) turns TCP off, leaving only the Unix socket.
const tcpListen = v.pipe(
  v.optional(v.string(), "127.0.0.1:11434"),
  v.transform((s) => s.trim()),
  v.check((s) => s === "" || s === "none" || parses(parseListenAddress)(s), "must be [host]:port or none"),
  v.transform((s) => (s === "" || s === "none" ? undefined : parseListenAddress(s))),
);

/** The egress listener (decision 28): off unless set. */
const egressListen = v.optional(
  v.pipe(v.string(), v.check(parses(parseListenAddress), "must be [host]:port"), v.transform(parseListenAddress)),
);

/** Comma-separated model names (empty: no model route is allowed). */
const modelList = v.pipe(
  v.optional(v.string(), ""),
  v.transform((s) =>
    s
      .split(",")
      .map((m) => m.trim())
      .filter(Boolean),
  ),
  v.check((ms) => ms.every((m) => !/\s/.test(m)), "must be model names separated by commas"),
);

const keepAlive = v.pipe(
  v.optional(v.string(), DEFAULT_INFERENCE_LIMITS.keepAlive),
  v.check(parses(parseDuration), "must be a duration such as 5m"),
);

export const ProxyEnv = v.pipe(
  v.object({
    INFERENCE_PROXY_LISTEN: tcpListen,
    INFERENCE_PROXY_SOCKET: v.optional(v.pipe(v.string(), v.startsWith("/", "must be an absolute path"))),
    OLLAMA_UPSTREAM_URL: v.pipe(
      v.optional(v.string(), "http://host.containers.internal:11434"),
      v.check(parses(parseUpstream), "must be http://host:port or unix:/path.sock"),
      v.transform(parseUpstream),
    ),
    INFERENCE_PROXY_TIMEOUT: durationVar("120s"),
    INFERENCE_PROXY_MAX_BODY_BYTES: wholeNumberVar(MAX_REQUEST_BODY_BYTES, 1, MAX_REQUEST_BODY_BYTES),
    INFERENCE_PROXY_MAX_CONNECTIONS: wholeNumberVar(MAX_CONNECTIONS, 1),
    INFERENCE_ALLOWED_MODELS: modelList,
    INFERENCE_MAX_TOKENS: wholeNumberVar(DEFAULT_INFERENCE_LIMITS.maxTokens, 1),
    INFERENCE_MAX_CONTEXT: wholeNumberVar(DEFAULT_INFERENCE_LIMITS.maxContext, 1),
    INFERENCE_MAX_KEEP_ALIVE: keepAlive,
    EGRESS_PROXY_LISTEN: egressListen,
    EGRESS_UPSTREAM_SOCKET: v.optional(v.pipe(v.string(), v.startsWith("/", "must be an absolute path"))),
    LOG_LEVEL: logLevelVar,
  }),
  // A partial check still runs when other fields are invalid, so every problem is listed at once.
  v.partialCheck(
    [["INFERENCE_PROXY_LISTEN"], ["INFERENCE_PROXY_SOCKET"]],
    (c) => c.INFERENCE_PROXY_LISTEN !== undefined || c.INFERENCE_PROXY_SOCKET !== undefined,
    "listen on TCP, a Unix socket, or both",
  ),
  v.partialCheck(
    [["EGRESS_PROXY_LISTEN"], ["EGRESS_UPSTREAM_SOCKET"]],
    (c) => (c.EGRESS_PROXY_LISTEN === undefined) === (c.EGRESS_UPSTREAM_SOCKET === undefined),
    "EGRESS_PROXY_LISTEN and EGRESS_UPSTREAM_SOCKET go together",
  ),
);
export type ProxyConfig = v.InferOutput<typeof ProxyEnv>;

export type ProxyFlags = { listen?: string; socket?: string; upstream?: string; timeout?: string };

/** Flags win over the environment. Throws one error listing every problem. */
export function loadConfig(env: Record<string, string | undefined>, flags: ProxyFlags = {}): ProxyConfig {
  const input: Record<string, string | undefined> = {
    ...env,
    INFERENCE_PROXY_LISTEN: flags.listen ?? env.INFERENCE_PROXY_LISTEN,
    INFERENCE_PROXY_SOCKET: flags.socket ?? (env.INFERENCE_PROXY_SOCKET || undefined),
    OLLAMA_UPSTREAM_URL: flags.upstream ?? (env.OLLAMA_UPSTREAM_URL || undefined),
    INFERENCE_PROXY_TIMEOUT: flags.timeout ?? env.INFERENCE_PROXY_TIMEOUT,
    EGRESS_PROXY_LISTEN: env.EGRESS_PROXY_LISTEN || undefined,
    EGRESS_UPSTREAM_SOCKET: env.EGRESS_UPSTREAM_SOCKET || undefined,
  };
  const r = v.safeParse(ProxyEnv, input);
  if (r.success) return r.output;
  const problems = r.issues.map((i) => `  ${v.getDotPath(i) ?? "config"}: ${i.message}`);
  throw new Error(`invalid configuration:\n${problems.join("\n")}`);
}
