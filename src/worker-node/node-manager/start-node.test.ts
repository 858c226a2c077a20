import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import * as v from "valibot";
import { RunJobResponse } from "../../contracts/worker-api";
import { memoryLogger } from "../../lib/log";
import {
  startControlPlaneFixture,
  TEST_WORKER_TOKEN,
  type ControlPlaneFixture,
} from "../../testing/control-plane-fixture";
import { ensureProxyImage } from "../../testing/inference-runner";
import { TEST_NODE_PSK, testNodeConfig } from "../../testing/node-config";
import { startOllamaTestServer, type OllamaTestServer } from "../../testing/ollama-test-server";
import { ensureSandboxImage, testPodman } from "../../testing/sandbox-fixture";
import { startNode } from "./start-node";
import { until } from "../../testing/until";

// Each start runs real podman checks; under a busy host that takes seconds.
setDefaultTimeout(60_000);
let cp: ControlPlaneFixture;
/** Stands in for the node's existing Ollama (TEST DOUBLE): every node here reuses it unless a test says otherwise. */
let ollama: OllamaTestServer;

beforeAll(async () => {
  await Promise.all([ensureSandboxImage(testPodman()), ensureProxyImage(testPodman())]);
  ollama = await startOllamaTestServer({ port: 0 });
  cp = await startControlPlaneFixture();
}, 300_000);
afterAll(async () => {
  await ollama.stop();
  await cp.stop();
});

function nodeConfig(slug: string, yaml = "", env: Record<string, string> = {}) {
  return testNodeConfig({
    yaml: `worker_api: { listen_host: 127.0.0.1, listen_port: 0 }\n${yaml}`,
    env: { ORCHESTRATOR_URL: cp.url, NODE_SLUG: slug, OLLAMA_UPSTREAM_URL: ollama.url!, ...env },
  });
}

const noGpu = async () => undefined;

/** Runs `sandbox` as a job on the node's Worker API, with the orchestrator's bearer token. */
async function runJob(port: number, sandbox: Record<string, unknown>) {
  const job = { version: 1, task_id: crypto.randomUUID(), job_id: crypto.randomUUID(), sandbox };
  const res = await fetch(`http://127.0.0.1:${port}/v1/worker/jobs:run`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_WORKER_TOKEN}` },
    body: JSON.stringify(job),
  });
  return v.parse(RunJobResponse, await res.json());
}

describe("startNode with the real control-plane: a node that starts", () => {
  it("registers, acks applied, becomes dispatchable and runs a dispatched job", async () => {
    const log = memoryLogger("node");
    const node = await startNode({
      config: await nodeConfig("nm-happy"),
      log,
      now: cp.now,
      runCommand: noGpu,
      every: () => () => {},
    });
    try {
      expect((await cp.dispatchable("nm-happy"))?.worker_api_target_url).toBe(node.workerApiUrl);
      expect(await (await fetch(new URL("/readyz", node.workerApiUrl))).text()).toBe("ready");
      expect(await runJob(node.port, { command: ["echo", "dispatched"] })).toMatchObject({
        status: "completed",
        stdout: "dispatched\n",
      });
      expect((await cp.capabilityReports("nm-happy")).length).toBeGreaterThanOrEqual(2);
      expect(JSON.stringify(log.lines)).not.toContain(TEST_NODE_PSK);
      expect(JSON.stringify(log.lines)).not.toContain(TEST_WORKER_TOKEN);
    } finally {
      await node.stop();
    }
    await expect(fetch(`http://127.0.0.1:${node.port}/healthz`)).rejects.toThrow();
  });

  it("reports the Ollama it reuses, and runs an inference job through it in a pod", async () => {
    const node = await startNode({
      config: await nodeConfig("nm-inference"),
      log: memoryLogger(),
      now: cp.now,
      runCommand: noGpu,
      every: () => () => {},
    });
    try {
      const [latest] = await cp.capabilityReports("nm-inference");
      expect(latest?.inference).toEqual({
        supported: true,
        mode: "allow",
        existing_service: true,
        running: true,
        available_models: ["qwen3.5:0.8b"],
      });
      const sandbox = { command: ["cynode-prompt"], env: { CYNODE_PROMPT: "hi node" }, use_inference: true };
      expect(await runJob(node.port, sandbox)).toMatchObject({ status: "completed", stdout: "echo: hi node\n" });
    } finally {
      await node.stop();
    }
  });
});

describe("startNode with the real control-plane: capability reports", () => {
  it("registers again when the node token has expired", async () => {
    const log = memoryLogger("node");
    const node = await startNode({ config: await nodeConfig("nm-expiry"), log, now: cp.now, runCommand: noGpu });
    try {
      cp.advance(2 * 3_600_000);
      await node.reportNow();
      expect(log.lines.map((l) => l.msg)).toContain("node token rejected; registering again");
    } finally {
      await node.stop();
    }
  });

  it("keeps running and logs when a periodic capability report fails", async () => {
    const log = memoryLogger("node");
    let tick = () => {};
    let down = false;
    const flaky: typeof fetch = Object.assign(
      (url: string | URL | Request, init?: RequestInit) =>
        down && String(url).endsWith("/capability")
          ? Promise.resolve(new Response("maintenance", { status: 503 }))
          : fetch(url, init),
      { preconnect: fetch.preconnect },
    );
    const node = await startNode({
      config: await nodeConfig("nm-flaky"),
      log,
      now: cp.now,
      runCommand: noGpu,
      fetch: flaky,
      every: (_ms, fn) => {
        tick = fn;
        return () => {};
      },
    });
    try {
      down = true;
      tick();
      await until(
        () => log.lines.some((l) => l.msg === "capability report failed"),
        "a `capability report failed` log line",
      );
      expect(log.lines.find((l) => l.msg === "capability report failed")?.error).toBe(
        "capability report failed: HTTP 503 maintenance",
      );
    } finally {
      await node.stop();
    }
  });
});

describe("startNode with the real control-plane: a node that refuses to start", () => {
  it("refuses a state dir it cannot write", async () => {
    const config = await nodeConfig("nm-ro", "", { CYNODE_STATE_DIR: "/proc/cynode-state" });
    await expect(startNode({ config, log: memoryLogger(), runCommand: noGpu })).rejects.toThrow(
      "state dir /proc/cynode-state is not writable",
    );
  });

  it("acks failed and refuses to start when the config cannot be applied", async () => {
    const config = await nodeConfig("nm-refuse", "sandbox: { allowed_images: [localhost/cynode-sandbox:latest] }\n");
    const starting = cp.withStrictPolicy(() =>
      startNode({ config, log: memoryLogger(), now: cp.now, runCommand: noGpu }),
    );
    await expect(starting).rejects.toThrow("no sandbox image is allowed by both node and orchestrator policy");
    expect((await cp.nodeRow("nm-refuse")).config_ack_status).toBe("failed");
  });

  it("fails fast on a wrong PSK", async () => {
    const config = await nodeConfig("nm-bad-psk", "", { NODE_REGISTRATION_PSK: "wrong" });
    await expect(startNode({ config, log: memoryLogger(), runCommand: noGpu })).rejects.toThrow(
      "registration failed: HTTP 401 Invalid registration PSK",
    );
  });

  it("fails fast when told to start Ollama and it cannot: failed ack", async () => {
    const env = { OLLAMA_UPSTREAM_URL: "http://127.0.0.1:1", OLLAMA_IMAGE: "localhost/cynode-no-such-ollama:latest" };
    const config = await nodeConfig("nm-no-ollama", "", env);
    await expect(
      startNode({
        config,
        log: memoryLogger(),
        now: cp.now,
        runCommand: noGpu,
        ollamaContainer: "cynode-test-no-ollama",
      }),
    ).rejects.toThrow(
      "inference could not be started: cannot start Ollama container cynode-test-no-ollama from localhost/cynode-no-such-ollama:latest",
    );
    const row = await cp.nodeRow("nm-no-ollama");
    expect([row.config_ack_status, row.config_ack_error]).toEqual([
      "failed",
      expect.stringContaining("image not known"),
    ]);
  });
});
