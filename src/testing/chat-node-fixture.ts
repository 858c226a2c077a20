/**
 * A node for chat tests without podman: the real Worker API app, served over real HTTP, relaying to the Ollama TEST
 * DOUBLE on a Unix socket; `register` records it in a gateway's database as a live node with the double's models.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memoryLogger } from "../lib/log";
import { serveApp, type Served } from "../lib/serve";
import type { Db } from "../orchestrator/db/connect";
import { recordCapability, recordConfigAck, registerNode, setConfigVersion } from "../orchestrator/db/nodes";
import { createWorkerApi } from "../worker-node/worker-api/app";
import { capabilityBase } from "./capability-report";
import { startOllamaTestServer, type OllamaTestServerOptions, type OllamaTestServer } from "./ollama-test-server";

/** The worker token, stored unsealed: gateways under test open it with the identity. */
export const CHAT_NODE_TOKEN = "worker-token-for-chat-tests";
const CONFIG_VERSION = "01J00000000000000000000000";

export type ChatNode = {
  url: string;
  ollama: OllamaTestServer;
  /** Records a live node at `url` (default this one) offering `models` (default the double's), reported at `at`. */
  register(db: Db, slug: string, opts?: { url?: string; models?: string[]; at?: Date }): Promise<string>;
  stop(): Promise<void>;
};

export async function registerChatNode(
  db: Db,
  slug: string,
  opts: { url: string; models: string[]; at?: Date },
): Promise<string> {
  const id = crypto.randomUUID();
  const now = opts.at ?? new Date();
  await registerNode(db, { id, slug, workerUrl: opts.url, sealedToken: CHAT_NODE_TOKEN, now });
  const report = {
    ...capabilityBase(slug, now.toISOString(), { cpu_cores: 2, ram_mb: 1024 }),
    inference: { running: true, available_models: opts.models },
  };
  await recordCapability(db, { nodeId: id, report, hash: slug, workerUrl: opts.url, now });
  await setConfigVersion(db, { nodeId: id, version: CONFIG_VERSION, hash: "h", now });
  await recordConfigAck(db, { nodeId: id, version: CONFIG_VERSION, status: "applied", at: now, error: null, now });
  return id;
}

export async function startChatNode(opts: Omit<OllamaTestServerOptions, "socket" | "port"> = {}): Promise<ChatNode> {
  const dir = await mkdtemp(join(tmpdir(), "cynode-chat-node-"));
  const ollama = await startOllamaTestServer({ ...opts, socket: join(dir, "ollama.sock") });
  const app = createWorkerApi({
    runner: { run: () => Promise.reject(new Error("this test node runs no jobs")), cancel: async () => false },
    bearerToken: () => CHAT_NODE_TOKEN,
    notReadyReason: () => null,
    log: memoryLogger("chat-node"),
    relaySocket: () => ollama.socket,
  });
  const served: Served = serveApp(app, { hostname: "127.0.0.1", port: 0 });
  const url = served.url.origin;
  return {
    url,
    ollama,
    register: (db, slug, o = {}) =>
      registerChatNode(db, slug, { url: o.url ?? url, models: o.models ?? opts.models ?? ["qwen3.5:0.8b"], at: o.at }),
    async stop() {
      await served.stop(500);
      await ollama.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
