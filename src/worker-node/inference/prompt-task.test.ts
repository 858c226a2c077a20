/**
 * End to end over HTTP: the real orchestrator (gateway, control-plane, dispatcher on a real database) and the real
 * worker node; a prompt-mode task runs `cynode-prompt` in a no-network pod whose sidecar relays to the node's Ollama,
 * here the Ollama-API-compatible TEST DOUBLE.
 */
import { freePort } from "../../testing/free-port";
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memoryLogger } from "../../lib/log";
import { loadConfig } from "../../orchestrator/config";
import { startOrchestrator, type RunningOrchestrator } from "../../orchestrator/start";
import { startOllamaTestServer, testReply, type OllamaTestServer } from "../../testing/ollama-test-server";
import { createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { loadNodeConfig } from "../config";
import { startNode, type RunningNode } from "../node-manager/start-node";
import { ensureSandboxImage, testPodman } from "../sandbox/test-sandbox";
import { ensureProxyImage } from "./test-inference";

const PSK = "prompt-task-e2e-psk";
const ADMIN_PASSWORD = "prompt-task-admin-password";
let db: TestDatabase;
let ollama: OllamaTestServer;
let orchestrator: RunningOrchestrator;
let node: RunningNode;
let dir: string;

beforeAll(async () => {
  const podman = testPodman();
  await Promise.all([ensureSandboxImage(podman), ensureProxyImage(podman)]);
  [db, ollama, dir] = await Promise.all([
    createTestDatabase(),
    startOllamaTestServer({ port: 0, models: ["qwen3.5:0.8b"] }),
    mkdtemp(join(tmpdir(), "cynode-e2e-")),
  ]);
  const controlPort = freePort();
  const config = loadConfig(
    {
      DATABASE_URL: db.url,
      USER_GATEWAY_LISTEN_ADDR: "127.0.0.1:0",
      CONTROL_PLANE_LISTEN_ADDR: `127.0.0.1:${controlPort}`,
      ORCHESTRATOR_PUBLIC_URL: `http://127.0.0.1:${controlPort}`,
      NODE_REGISTRATION_PSK: PSK,
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
      JWT_SECRET: "prompt-task-e2e-secret-0123456789abcdef",
      INFERENCE_MODEL: "qwen3.5:0.8b",
      DISPATCH_POLL_INTERVAL: "100ms",
    },
    { stateDir: join(dir, "orchestrator") },
  );
  orchestrator = await startOrchestrator(config, memoryLogger("orchestrator"), { announce: () => {} });
  await Bun.write(join(dir, "node.yaml"), "worker_api: { listen_host: 127.0.0.1, listen_port: 0 }\n");
  const nodeConfig = await loadNodeConfig({
    path: join(dir, "node.yaml"),
    env: {
      ORCHESTRATOR_URL: `http://127.0.0.1:${controlPort}`,
      NODE_SLUG: "e2e-prompt-node",
      NODE_REGISTRATION_PSK: PSK,
      CYNODE_STATE_DIR: join(dir, "node"),
      OLLAMA_UPSTREAM_URL: ollama.url!,
    },
  });
  node = await startNode({ config: nodeConfig, log: memoryLogger("node"), runCommand: async () => undefined });
}, 300_000);

afterAll(async () => {
  await node?.stop();
  await orchestrator?.stop();
  await ollama?.stop();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

async function gateway(method: string, path: string, body?: unknown, token?: string): Promise<any> {
  const res = await fetch(new URL(path, orchestrator.gateway.url), {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

describe("prompt-mode task end to end (gateway → dispatcher → node → pod → sidecar → Ollama)", () => {
  it("puts the model's reply in the task result's stdout", async () => {
    const { access_token } = await gateway("POST", "/v1/auth/login", { handle: "admin", password: ADMIN_PASSWORD });
    const prompt = "Say hello to the pod";
    const task = await gateway("POST", "/v1/tasks", { prompt, input_mode: "prompt" }, access_token);
    let result = await gateway("GET", `/v1/tasks/${task.id}/result`, undefined, access_token);
    while (!["completed", "failed", "canceled"].includes(result.status)) {
      await Bun.sleep(100);
      result = await gateway("GET", `/v1/tasks/${task.id}/result`, undefined, access_token);
    }
    const run = JSON.parse(result.jobs[0].result);
    expect([result.status, run.stdout, run.exit_code]).toEqual(["completed", `${testReply(prompt)}\n`, 0]);
    const asked = ollama.requests.find((r) => r.path === "/api/generate");
    expect(JSON.parse(asked!.body)).toEqual({ model: "qwen3.5:0.8b", prompt, stream: false });
  }, 60_000);
});
