import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { RunJobResponse } from "../../contracts/worker-api";
import { WORKER_API } from "../../contracts/routes";
import { memoryLogger } from "../../lib/log";
import { createSecretBox, keyFromPassphrase } from "../../orchestrator/auth/secret-box";
import { createTokens } from "../../orchestrator/auth/tokens";
import { createControlPlane } from "../../orchestrator/control-plane/app";
import { dispatchableNodes } from "../../orchestrator/db/nodes";
import { startOllamaTestServer, type OllamaTestServer } from "../../testing/ollama-test-server";
import { createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { loadNodeConfig } from "../config";
import { ensureProxyImage } from "../inference/test-inference";
import { ensureSandboxImage, testPodman } from "../sandbox/test-sandbox";
import { startNode } from "./start-node";

// Each start runs real podman checks; under a busy host that takes seconds.
setDefaultTimeout(60_000);
const PSK = "node-manager-test-psk";
const WORKER_TOKEN = "worker-token-from-orchestrator";
let clock = new Date("2026-03-01T10:00:00Z");
let t: TestDatabase;
let orchestrator: ReturnType<typeof Bun.serve>;
let strictPolicy = false;
/** Stands in for the node's existing Ollama (TEST DOUBLE): every node here reuses it unless a test says otherwise. */
let ollama: OllamaTestServer;

beforeAll(async () => {
  await Promise.all([ensureSandboxImage(testPodman()), ensureProxyImage(testPodman())]);
  ollama = await startOllamaTestServer({ port: 0 });
  t = await createTestDatabase();
  const tokens = createTokens({
    secret: "node-manager-test-secret-0123456789",
    ttl: { accessMs: 900_000, refreshMs: 86_400_000, nodeMs: 3_600_000 },
    now: () => clock,
  });
  let apps: { open: ReturnType<typeof createControlPlane>; strict: ReturnType<typeof createControlPlane> } | undefined;
  // `strictPolicy` switches to an orchestrator whose sandbox policy the node cannot accept (the `failed` ack path).
  orchestrator = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => (strictPolicy ? apps!.strict : apps!.open).fetch(req),
  });
  const deps = {
    db: t.db,
    tokens,
    secrets: createSecretBox(keyFromPassphrase("nm-test")),
    log: memoryLogger("cp"),
    registrationPsk: PSK,
    publicUrl: orchestrator.url.toString(),
    now: () => clock,
    newWorkerToken: () => WORKER_TOKEN,
  };
  apps = {
    open: createControlPlane(deps),
    strict: createControlPlane({ ...deps, sandboxPolicy: { allowed_images: ["localhost/other:latest"] } }),
  };
}, 300_000);
afterAll(async () => {
  await ollama.stop();
  await orchestrator.stop(true);
  await t.drop();
});

async function nodeConfig(slug: string, yaml = "", env: Record<string, string> = {}) {
  const dir = await mkdtemp(join(tmpdir(), "cynode-node-"));
  await writeFile(join(dir, "node.yaml"), `worker_api: { listen_host: 127.0.0.1, listen_port: 0 }\n${yaml}`);
  return loadNodeConfig({
    path: join(dir, "node.yaml"),
    env: {
      ORCHESTRATOR_URL: orchestrator.url.toString(),
      NODE_SLUG: slug,
      NODE_REGISTRATION_PSK: PSK,
      CYNODE_STATE_DIR: join(dir, "state"),
      OLLAMA_UPSTREAM_URL: ollama.url!,
      ...env,
    },
  });
}

const noGpu = async () => undefined;

describe("startNode with the real control-plane", () => {
  it("registers, acks applied, becomes dispatchable and runs a dispatched job", async () => {
    const log = memoryLogger("node");
    const node = await startNode({
      config: await nodeConfig("nm-happy"),
      log,
      now: () => clock,
      runCommand: noGpu,
      every: () => () => {},
    });
    try {
      const [row] = (await dispatchableNodes(t.db)).filter((n) => n.node_slug === "nm-happy");
      expect(row?.worker_api_target_url).toBe(node.workerApiUrl);
      expect(await (await fetch(new URL("/readyz", node.workerApiUrl))).text()).toBe("ready");
      const url = `http://127.0.0.1:${node.port}${WORKER_API.runJob.path()}`;
      const job = {
        version: 1,
        task_id: crypto.randomUUID(),
        job_id: crypto.randomUUID(),
        sandbox: { command: ["echo", "dispatched"] },
      };
      const res = await fetch(url, {
        method: "POST",
        headers: { authorization: `Bearer ${WORKER_TOKEN}` },
        body: JSON.stringify(job),
      });
      expect(v.parse(RunJobResponse, await res.json())).toMatchObject({ status: "completed", stdout: "dispatched\n" });
      const reports = await t.db
        .selectFrom("node_capabilities")
        .innerJoin("nodes", "nodes.id", "node_capabilities.node_id")
        .where("node_slug", "=", "nm-happy")
        .select("node_capabilities.id")
        .execute();
      expect(reports.length).toBeGreaterThanOrEqual(2);
      expect(JSON.stringify(log.lines)).not.toContain(PSK);
      expect(JSON.stringify(log.lines)).not.toContain(WORKER_TOKEN);
    } finally {
      await node.stop();
    }
    await expect(fetch(`http://127.0.0.1:${node.port}/healthz`)).rejects.toThrow();
  });

  it("registers again when the node token has expired", async () => {
    const log = memoryLogger("node");
    const node = await startNode({ config: await nodeConfig("nm-expiry"), log, now: () => clock, runCommand: noGpu });
    try {
      clock = new Date(clock.getTime() + 2 * 3_600_000);
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
      now: () => clock,
      runCommand: noGpu,
      fetch: flaky,
      every: (_ms, fn) => ((tick = fn), () => {}),
    });
    try {
      down = true;
      tick();
      while (!log.lines.some((l) => l.msg === "capability report failed")) await Bun.sleep(10);
      expect(log.lines.find((l) => l.msg === "capability report failed")?.error).toBe(
        "capability report failed: HTTP 503 maintenance",
      );
    } finally {
      await node.stop();
    }
  });

  it("refuses a state dir it cannot write", async () => {
    const config = await nodeConfig("nm-ro", "", { CYNODE_STATE_DIR: "/proc/cynode-state" });
    await expect(startNode({ config, log: memoryLogger(), runCommand: noGpu })).rejects.toThrow(
      "state dir /proc/cynode-state is not writable",
    );
  });

  it("acks failed and refuses to start when the config cannot be applied", async () => {
    strictPolicy = true;
    try {
      const config = await nodeConfig("nm-refuse", "sandbox: { allowed_images: [localhost/cynode-sandbox:latest] }\n");
      await expect(startNode({ config, log: memoryLogger(), now: () => clock, runCommand: noGpu })).rejects.toThrow(
        "no sandbox image is allowed by both node and orchestrator policy",
      );
    } finally {
      strictPolicy = false;
    }
    const row = await t.db
      .selectFrom("nodes")
      .selectAll()
      .where("node_slug", "=", "nm-refuse")
      .executeTakeFirstOrThrow();
    expect(row.config_ack_status).toBe("failed");
  });

  it("fails fast on a wrong PSK", async () => {
    const config = await nodeConfig("nm-bad-psk", "", { NODE_REGISTRATION_PSK: "wrong" });
    await expect(startNode({ config, log: memoryLogger(), runCommand: noGpu })).rejects.toThrow(
      "registration failed: HTTP 401 Invalid registration PSK",
    );
  });

  it("gives up on an unreachable orchestrator after the connect timeout", async () => {
    let fake = Date.parse("2026-03-01T10:00:00Z");
    const config = await nodeConfig("nm-unreachable", "orchestrator: { timeouts: { connect_seconds: 3 } }\n", {
      ORCHESTRATOR_URL: "http://127.0.0.1:1",
    });
    const sleeps: number[] = [];
    const started = startNode({
      config,
      log: memoryLogger(),
      runCommand: noGpu,
      now: () => new Date(fake),
      sleep: async (ms) => void (sleeps.push(ms), (fake += ms)),
    });
    await expect(started).rejects.toThrow(
      "orchestrator unreachable at http://127.0.0.1:1: POST http://127.0.0.1:1/v1/nodes/register: ",
    );
    await started.catch(() => {});
    expect(sleeps).toEqual([1000, 1000, 1000]);
  });

  it("reports the Ollama it reuses, and runs an inference job through it in a pod", async () => {
    const node = await startNode({
      config: await nodeConfig("nm-inference"),
      log: memoryLogger(),
      now: () => clock,
      runCommand: noGpu,
      every: () => () => {},
    });
    try {
      const row = await t.db
        .selectFrom("node_capabilities")
        .innerJoin("nodes", "nodes.id", "node_capabilities.node_id")
        .where("node_slug", "=", "nm-inference")
        .select("node_capabilities.capability_snapshot")
        .orderBy("node_capabilities.reported_at", "desc")
        .executeTakeFirstOrThrow();
      const snapshot = row.capability_snapshot as { inference?: unknown };
      expect((typeof snapshot === "string" ? JSON.parse(snapshot) : snapshot).inference).toEqual({
        supported: true,
        mode: "allow",
        existing_service: true,
        running: true,
        available_models: ["qwen3.5:0.8b"],
      });
      const job = {
        version: 1,
        task_id: crypto.randomUUID(),
        job_id: crypto.randomUUID(),
        sandbox: { command: ["cynode-prompt"], env: { CYNODE_PROMPT: "hi node" }, use_inference: true },
      };
      const res = await fetch(`http://127.0.0.1:${node.port}${WORKER_API.runJob.path()}`, {
        method: "POST",
        headers: { authorization: `Bearer ${WORKER_TOKEN}` },
        body: JSON.stringify(job),
      });
      expect(v.parse(RunJobResponse, await res.json())).toMatchObject({
        status: "completed",
        stdout: "echo: hi node\n",
      });
    } finally {
      await node.stop();
    }
  });

  it("fails fast when told to start Ollama and it cannot: failed ack, and the process exits non-zero", async () => {
    const env = { OLLAMA_UPSTREAM_URL: "http://127.0.0.1:1", OLLAMA_IMAGE: "localhost/cynode-no-such-ollama:latest" };
    const config = await nodeConfig("nm-no-ollama", "", env);
    await expect(
      startNode({
        config,
        log: memoryLogger(),
        now: () => clock,
        runCommand: noGpu,
        ollamaContainer: "cynode-test-no-ollama",
      }),
    ).rejects.toThrow(
      "inference could not be started: cannot start Ollama container cynode-test-no-ollama from localhost/cynode-no-such-ollama:latest",
    );
    const row = await t.db
      .selectFrom("nodes")
      .selectAll()
      .where("node_slug", "=", "nm-no-ollama")
      .executeTakeFirstOrThrow();
    expect([row.config_ack_status, row.config_ack_error]).toEqual([
      "failed",
      expect.stringContaining("image not known"),
    ]);

    // The executable itself: same start-up, and a non-zero exit with the reason in its log.
    const dir = await mkdtemp(join(tmpdir(), "cynode-node-main-"));
    await writeFile(join(dir, "node.yaml"), "worker_api: { listen_host: 127.0.0.1, listen_port: 0 }\n");
    const proc = Bun.spawn(
      [process.execPath, join(import.meta.dir, "..", "main.ts"), "--config", join(dir, "node.yaml")],
      {
        env: {
          PATH: process.env.PATH,
          ORCHESTRATOR_URL: orchestrator.url.toString(),
          NODE_SLUG: "nm-main-no-ollama",
          NODE_REGISTRATION_PSK: PSK,
          CYNODE_STATE_DIR: join(dir, "state"),
          ...env,
        },
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    expect(code).toBe(1);
    expect(out + err).toContain("inference could not be started");
    const mainRow = await t.db
      .selectFrom("nodes")
      .selectAll()
      .where("node_slug", "=", "nm-main-no-ollama")
      .executeTakeFirstOrThrow();
    expect(mainRow.config_ack_status).toBe("failed");
  });

  it("explains a sandbox image that is missing and cannot be built", async () => {
    const config = await nodeConfig("nm-no-image", "sandbox: { default_image: localhost/cynode-missing:latest }\n");
    await expect(startNode({ config, log: memoryLogger(), runCommand: noGpu })).rejects.toThrow(
      "build it with `just images`",
    );
  });
});
