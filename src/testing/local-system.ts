/**
 * TEST SUPPORT: the whole system in this process, over real HTTP: the real orchestrator (gateway, control-plane,
 * dispatcher) on a fresh test database, one real worker node on real podman, and the Ollama-API-compatible TEST
 * DOUBLE as the node's upstream. For tests that follow a request from the gateway to a sandbox and back.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { USER_API } from "../contracts/routes";
import { memoryLogger } from "../lib/log";
import { loadConfig } from "../orchestrator/config";
import { startOrchestrator, type RunningOrchestrator } from "../orchestrator/start";
import { loadNodeConfig } from "../worker-node/config";
import { ensureProxyImage } from "./inference-runner";
import { startNode, type RunningNode } from "../worker-node/node-manager/start-node";
import { ensureSandboxImage, testPodman } from "./sandbox-fixture";
import { freePort } from "./free-port";
import { startOllamaTestServer, type OllamaTestServer, type OllamaTestServerOptions } from "./ollama-test-server";
import { createTestDatabase, type TestDatabase } from "./test-db";

export const LOCAL_ADMIN_PASSWORD = "local-system-admin-password";
const PSK = "local-system-psk";

export type LocalSystem = {
  db: TestDatabase;
  ollama: OllamaTestServer;
  orchestrator: RunningOrchestrator;
  node: RunningNode;
  /** The orchestrator's state dir (its generated secrets). */
  stateDir: string;
  /** An access token of `admin`. */
  adminToken(): Promise<string>;
  stop(): Promise<void>;
};

export async function startLocalSystem(opts: {
  name: string;
  models: string[];
  /** More orchestrator environment (e.g. `DISPATCH_POLL_INTERVAL`). */
  env?: Record<string, string>;
  /** More options of the Ollama test double (e.g. its chat agent scripts). */
  ollama?: Partial<OllamaTestServerOptions>;
}): Promise<LocalSystem> {
  const podman = testPodman();
  await Promise.all([ensureSandboxImage(podman), ensureProxyImage(podman)]);
  const [db, ollama, dir] = await Promise.all([
    createTestDatabase(),
    startOllamaTestServer({ ...opts.ollama, port: 0, models: opts.models }),
    mkdtemp(join(tmpdir(), `cynode-${opts.name}-`)),
  ]);
  const controlPort = freePort();
  const config = loadConfig(
    {
      DATABASE_URL: db.url,
      USER_GATEWAY_LISTEN_ADDR: "127.0.0.1:0",
      CONTROL_PLANE_LISTEN_ADDR: `127.0.0.1:${controlPort}`,
      ORCHESTRATOR_PUBLIC_URL: `http://127.0.0.1:${controlPort}`,
      NODE_REGISTRATION_PSK: PSK,
      BOOTSTRAP_ADMIN_PASSWORD: LOCAL_ADMIN_PASSWORD,
      JWT_SECRET: `${opts.name}-secret-0123456789abcdef0123456789`,
      INFERENCE_MODEL: opts.models[0]!,
      ...opts.env,
    },
    { stateDir: join(dir, "orchestrator") },
  );
  const orchestrator = await startOrchestrator(config, memoryLogger("orchestrator"), { announce: () => {} });
  await Bun.write(join(dir, "node.yaml"), "worker_api: { listen_host: 127.0.0.1, listen_port: 0 }\n");
  const nodeConfig = await loadNodeConfig({
    path: join(dir, "node.yaml"),
    env: {
      ORCHESTRATOR_URL: `http://127.0.0.1:${controlPort}`,
      NODE_SLUG: `${opts.name}-node`,
      NODE_REGISTRATION_PSK: PSK,
      CYNODE_STATE_DIR: join(dir, "node"),
      OLLAMA_UPSTREAM_URL: ollama.url!,
    },
  });
  const node = await startNode({ config: nodeConfig, log: memoryLogger("node"), runCommand: async () => undefined });
  return {
    db,
    ollama,
    orchestrator,
    node,
    stateDir: join(dir, "orchestrator"),
    async adminToken() {
      const login = await fetch(new URL(USER_API.login.path(), orchestrator.gateway.url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ handle: "admin", password: LOCAL_ADMIN_PASSWORD }),
      });
      return ((await login.json()) as { access_token: string }).access_token;
    },
    async stop() {
      await node.stop();
      await orchestrator.stop();
      await ollama.stop();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
