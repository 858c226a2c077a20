/** worker-node entrypoint: node manager + Worker API + podman sandbox runner in one process. */
import { defineCommand, runMain } from "citty";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { compileProxy } from "../../containers/inference-proxy/prepare";
import { exitOnSignals } from "../lib/exit-on-signals";
import { batchedStderr, createLogger, LOG_LEVELS, type LogLevel } from "../lib/log";
import { VERSION } from "../lib/version";
import type { Podman } from "./sandbox/podman";
import { ConfigError, DEFAULT_CONFIG_PATH, loadNodeConfig } from "./config";
import { ensureNodeImages } from "./images/node-images";
import { startNode } from "./node-manager/start-node";

// From source the repository is beside this file; a compiled binary carries what its images need instead.
const fromSource = existsSync(fileURLToPath(new URL("../../containers/sandbox/Containerfile", import.meta.url)));

const main = defineCommand({
  meta: {
    name: "worker-node",
    version: VERSION,
    description:
      "CyNodeAI worker node: registers with the orchestrator, runs jobs in podman sandboxes (Worker API :12090) and gives inference jobs a no-network pod with an inference-proxy sidecar to the node's Ollama.",
  },
  args: {
    config: {
      type: "string",
      description: `Node YAML (default ${DEFAULT_CONFIG_PATH}; optional). Environment overrides: ORCHESTRATOR_URL, NODE_SLUG, NODE_NAME, NODE_REGISTRATION_PSK, NODE_ADVERTISED_WORKER_API_URL, WORKER_API_PORT, CYNODE_STATE_DIR, CYNODE_SANDBOX_MOUNT_ROOT, CYNODE_CONTAINERS_CONF, SANDBOX_IMAGE, CAPABILITY_REPORT_INTERVAL, OLLAMA_UPSTREAM_URL, OLLAMA_IMAGE, OLLAMA_MODELS_VOLUME, INFERENCE_PROXY_IMAGE, INFERENCE_PROXY_BINARY`,
    },
  },
  async run({ args }) {
    const level = (LOG_LEVELS as readonly string[]).includes(process.env.LOG_LEVEL ?? "")
      ? (process.env.LOG_LEVEL as LogLevel)
      : "info";
    const stderr = batchedStderr();
    process.on("exit", stderr.flush);
    const log = createLogger({ name: "worker-node", level, write: stderr.write });
    let config;
    try {
      config = await loadNodeConfig({ path: args.config, env: process.env });
    } catch (err) {
      console.error(`worker-node: ${(err as Error).message}`);
      process.exit(err instanceof ConfigError ? 2 : 1);
    }
    // Compiled: images labelled with this build's version, the sidecar from the inference-proxy beside this file.
    // From source: only missing images are built (`just images` keeps them current), the proxy compiled from src/.
    const ensureImages = (podman: Podman) =>
      ensureNodeImages({
        config,
        podman,
        log: (line) => log.info(line),
        ...(fromSource ? { compileProxy } : { version: VERSION }),
      });
    const starting = startNode({ config, log, ensureImages });
    exitOnSignals(log, starting);
    try {
      await starting;
    } catch (err) {
      log.error("node manager failed to start", { error: (err as Error).message });
      process.exit(1);
    }
  },
});

await runMain(main);
