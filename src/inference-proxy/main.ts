/** inference-proxy entrypoint: the sandbox's only way to its node's Ollama (TCP and/or Unix socket → upstream). */
import { defineCommand, runMain } from "citty";
import { batchedStderr, createLogger } from "../lib/log";
import { exitOnSignals } from "../lib/exit-on-signals";
import { VERSION } from "../lib/version";
import { loadConfig } from "./config";
import { healthcheck } from "./healthcheck";
import { startListeners } from "./listeners";
import { createProxy } from "./proxy-app";
import { startConfiguredEgress } from "./egress-listener";

const main = defineCommand({
  meta: {
    name: "inference-proxy",
    version: VERSION,
    description:
      "Inference proxy sidecar: forwards a sandbox's inference API calls (Ollama chat/generate/embed/show/tags/version, " +
      "OpenAI /v1 chat/completions/embeddings/models; anything else 403) to the node's inference upstream, only for " +
      "the allowed models (INFERENCE_ALLOWED_MODELS, comma-separated; lists filtered), options clamped to " +
      "INFERENCE_MAX_TOKENS (4096), INFERENCE_MAX_CONTEXT (8192), INFERENCE_MAX_KEEP_ALIVE (5m); 10 MiB request " +
      "bodies, 120 s per request, 16 connections (INFERENCE_PROXY_MAX_CONNECTIONS), no credentials. Env also: " +
      "INFERENCE_PROXY_LISTEN, INFERENCE_PROXY_SOCKET, OLLAMA_UPSTREAM_URL, INFERENCE_PROXY_TIMEOUT, " +
      "INFERENCE_PROXY_MAX_BODY_BYTES, LOG_LEVEL. With EGRESS_PROXY_LISTEN ([host]:port) and EGRESS_UPSTREAM_SOCKET " +
      "(the node's egress broker), also an HTTP(S) forward proxy: CONNECT and absolute http:// requests passed to " +
      "the node, which decides and connects (restricted egress).",
  },
  args: {
    listen: { type: "string", description: "TCP address [host]:port, or none (default 127.0.0.1:11434)" },
    socket: { type: "string", description: "Also listen on this Unix socket (a stale one is replaced)" },
    upstream: {
      type: "string",
      description:
        "Ollama upstream: http://host:port or unix:/path.sock (default http://host.containers.internal:11434)",
    },
    timeout: { type: "string", description: "Per-request deadline, e.g. 120s" },
    "healthcheck-url": { type: "string", description: "Probe mode: GET this URL (2 s) and exit 0 on HTTP 200, else 1" },
  },
  async run({ args }) {
    if (args["healthcheck-url"]) process.exit(await healthcheck(args["healthcheck-url"]));
    let config;
    try {
      config = loadConfig(process.env, args);
    } catch (err) {
      console.error(`inference-proxy: ${(err as Error).message}`);
      process.exit(2);
    }
    const stderr = batchedStderr();
    process.on("exit", stderr.flush);
    const log = createLogger({ name: "inference-proxy", level: config.LOG_LEVEL, write: stderr.write });
    const proxy = createProxy({
      upstream: config.OLLAMA_UPSTREAM_URL,
      log,
      maxBodyBytes: config.INFERENCE_PROXY_MAX_BODY_BYTES,
      timeoutMs: config.INFERENCE_PROXY_TIMEOUT,
      maxConnections: config.INFERENCE_PROXY_MAX_CONNECTIONS,
      allowedModels: config.INFERENCE_ALLOWED_MODELS,
      limits: {
        maxTokens: config.INFERENCE_MAX_TOKENS,
        maxContext: config.INFERENCE_MAX_CONTEXT,
        keepAlive: config.INFERENCE_MAX_KEEP_ALIVE,
      },
    });
    // Before the inference listeners: the socket answering (the node's readiness probe) means every listener is up.
    const egress = await startConfiguredEgress(config, log);
    const starting = startListeners(proxy, {
      tcp: config.INFERENCE_PROXY_LISTEN,
      socket: config.INFERENCE_PROXY_SOCKET,
    });
    exitOnSignals(log, starting);
    const listeners = await starting;
    const { origin, basePath, unix } = config.OLLAMA_UPSTREAM_URL;
    log.info("listening", {
      tcp: listeners.tcpUrl,
      socket: listeners.socket,
      upstream: unix ? `unix:${unix}` : origin + basePath,
      allowed_models: config.INFERENCE_ALLOWED_MODELS,
      egress: egress?.url,
    });
  },
});

await runMain(main);
