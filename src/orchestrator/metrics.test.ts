/**
 * /metrics on a real system: the orchestrator (gateway, control-plane, dispatcher) on real Postgres, one worker node
 * on real podman with its inference relay, and the Ollama test double upstream. Each series is read with a real
 * Prometheus text parser before and after logins fail and tasks run.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memoryLogger } from "../lib/log";
import { freePort } from "../testing/free-port";
import { startOllamaTestServer, type OllamaTestServer } from "../testing/ollama-test-server";
import { type Scrape, scrape } from "../testing/scrape";
import { createTestDatabase, type TestDatabase } from "../testing/test-db";
import { loadNodeConfig } from "../worker-node/config";
import { ensureProxyImage } from "../testing/inference-runner";
import { type RunningNode, startNode } from "../worker-node/node-manager/start-node";
import { ensureSandboxImage, testPodman } from "../testing/sandbox-fixture";
import { loadConfig } from "./config";
import { type RunningOrchestrator, startOrchestrator } from "./start";
import { eventually } from "../testing/until";

setDefaultTimeout(240_000);
const PSK = "metrics-test-psk";
const PASSWORD = "metrics-test-admin-password";
const MODEL = "metrics-test-model";
let t: TestDatabase;
let ollama: OllamaTestServer;
let dir: string;
let orchestrator: RunningOrchestrator;
let node: RunningNode | undefined;

beforeAll(async () => {
  await Promise.all([ensureSandboxImage(testPodman()), ensureProxyImage(testPodman())]);
  ollama = await startOllamaTestServer({ port: 0, models: [MODEL] });
  t = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), "cynode-metrics-"));
  const cp = freePort();
  const config = loadConfig(
    {
      DATABASE_URL: t.url,
      USER_GATEWAY_LISTEN_ADDR: `127.0.0.1:${freePort()}`,
      CONTROL_PLANE_LISTEN_ADDR: `127.0.0.1:${cp}`,
      ORCHESTRATOR_PUBLIC_URL: `http://127.0.0.1:${cp}`,
      BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
      NODE_REGISTRATION_PSK: PSK,
      JWT_SECRET: "metrics-test-jwt-secret-0123456789abcdef",
      LOGIN_MAX_FAILURES: "2",
      INFERENCE_MODEL: MODEL,
      DISPATCH_POLL_INTERVAL: "250ms",
      LOG_LEVEL: "error",
    },
    { stateDir: join(dir, "orchestrator") },
  );
  orchestrator = await startOrchestrator(config, memoryLogger("orchestrator"), { announce: () => {} });
}, 300_000);
afterAll(async () => {
  await node?.stop();
  await orchestrator?.stop();
  await ollama?.stop();
  await t?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const gateway = (path: string) => new URL(path, orchestrator.gateway.url).href;
const controlPlaneMetrics = () => scrape(new URL("/metrics", orchestrator.controlPlane.url).href);

async function call(method: string, path: string, body?: unknown, token?: string) {
  return fetch(gateway(path), {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const SLOW = { timeoutMs: 180_000, intervalMs: 250 };

async function startWorker(): Promise<RunningNode> {
  await writeFile(join(dir, "node.yaml"), "worker_api: { listen_host: 127.0.0.1, listen_port: 0 }\n");
  const config = await loadNodeConfig({
    path: join(dir, "node.yaml"),
    env: {
      ORCHESTRATOR_URL: orchestrator.controlPlane.url.href,
      NODE_SLUG: `metrics-${crypto.randomUUID().slice(0, 8)}`,
      NODE_REGISTRATION_PSK: PSK,
      CYNODE_STATE_DIR: join(dir, "node"),
      OLLAMA_UPSTREAM_URL: ollama.url!,
    },
  });
  return startNode({ config, log: memoryLogger("node"), runCommand: async () => undefined });
}

const completed = (token: string, id: string) => async () => {
  const task = (await (await call("GET", `/v1/tasks/${id}`, undefined, token)).json()) as { status: string };
  if (["failed", "canceled"].includes(task.status))
    throw new Error(`task ${id} ${task.status}: ${JSON.stringify(task)}`);
  return task.status === "completed" ? task : undefined;
};

const delta = (before: Scrape, after: Scrape, ...args: Parameters<Scrape["value"]>) =>
  (after.value(...args) ?? 0) - (before.value(...args) ?? 0);

describe("/metrics", () => {
  it("is not on the gateway's public port", async () => {
    expect((await call("GET", "/metrics")).status).toBe(404);
  });

  it("moves each series as logins fail, a job waits for a node, and tasks run on it", async () => {
    const before = await controlPlaneMetrics();
    expect(before.value("cynode_queue_depth")).toBe(0);
    expect(before.value("cynode_nodes", { status: "active" })).toBe(0);
    expect(before.value("cynode_dispatch_latency_seconds", {}, "count")).toBe(0);

    // Two failures lock the handle out (LOGIN_MAX_FAILURES=2); the third attempt is refused outright.
    for (const expected of [401, 401, 429])
      expect((await call("POST", "/v1/auth/login", { handle: "nobody", password: "x" })).status).toBe(expected);
    const login = await call("POST", "/v1/auth/login", { handle: "admin", password: PASSWORD });
    const { access_token: token } = (await login.json()) as { access_token: string };

    // No node yet: the job waits in the queue.
    const queued = (await (
      await call("POST", "/v1/tasks", { prompt: "echo metrics", input_mode: "commands" }, token)
    ).json()) as { id: string };
    const waiting = await controlPlaneMetrics();
    expect(waiting.value("cynode_queue_depth")).toBe(1);
    expect(waiting.value("cynode_tasks", { status: "queued" })).toBe(1);
    expect(waiting.value("cynode_jobs", { status: "queued" })).toBe(1);

    node = await startWorker();
    const nodeMetrics = () => scrape(new URL("/metrics", node!.workerApiUrl).href);
    const nodeBefore = await nodeMetrics();
    const prompt = (await (await call("POST", "/v1/tasks", { prompt: "say hi" }, token)).json()) as { id: string };
    await eventually(completed(token, queued.id), "the commands task", SLOW);
    await eventually(completed(token, prompt.id), "the prompt task", SLOW);

    const after = await controlPlaneMetrics();
    expect(delta(before, after, "cynode_login_failures_total", { reason: "invalid_credentials" })).toBe(2);
    expect(delta(before, after, "cynode_login_failures_total", { reason: "rate_limited" })).toBe(1);
    expect(delta(before, after, "cynode_login_lockouts_total")).toBe(1);
    expect(after.value("cynode_queue_depth")).toBe(0);
    expect(after.value("cynode_tasks", { status: "completed" })).toBe(2);
    expect(after.value("cynode_jobs", { status: "completed" })).toBe(2);
    expect(after.value("cynode_nodes", { status: "active" })).toBe(1);
    expect(after.value("cynode_dispatch_latency_seconds", {}, "count")).toBe(2);
    expect(after.value("cynode_dispatch_latency_seconds", {}, "sum")).toBeGreaterThan(0);
    const lastSeen = after.families.find((f) => f.name === "cynode_node_last_seen_timestamp_seconds")?.metrics;
    expect(lastSeen).toHaveLength(1);
    expect(Number(lastSeen?.[0]?.value)).toBeGreaterThan(Date.now() / 1000 - 600);

    const nodeAfter = await nodeMetrics();
    expect(delta(nodeBefore, nodeAfter, "cynode_sandbox_runs_total", { outcome: "completed" })).toBe(2);
    expect(delta(nodeBefore, nodeAfter, "cynode_sandbox_run_duration_seconds", {}, "count")).toBe(2);
    expect(delta(nodeBefore, nodeAfter, "cynode_sandbox_run_duration_seconds", {}, "sum")).toBeGreaterThan(0);
    expect(delta(nodeBefore, nodeAfter, "cynode_inference_requests_total")).toBeGreaterThanOrEqual(1);
    expect(delta(nodeBefore, nodeAfter, "cynode_inference_bytes_total", { direction: "request" })).toBeGreaterThan(0);
    expect(delta(nodeBefore, nodeAfter, "cynode_inference_bytes_total", { direction: "response" })).toBeGreaterThan(0);
    // The node keeps warm sandboxes (sandbox.warm_pool, default 2): the gauge reports them once they are up.
    const warm = await eventually(
      async () => {
        const n = (await nodeMetrics()).value("cynode_sandbox_warm_pool_size") ?? 0;
        return n > 0 ? n : undefined;
      },
      "warm sandboxes reported",
      SLOW,
    );
    expect(warm).toBeGreaterThan(0);
  });
});
