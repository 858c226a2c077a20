/** The Worker Telemetry API over the Worker API app, on a real telemetry store fed by the node's recorders. */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { WORKER_API } from "../../contracts/routes";
import { ContainerList, LogsResponse, NodeInfo, NodeStats } from "../../contracts/telemetry";
import type { RunJobRequest } from "../../contracts/worker-api";
import { memoryLogger } from "../../lib/log";
import { nodeInfo, nodeStats } from "../telemetry/node-facts";
import { MAX_JOB_LOG_LINES, recordingRunner, storeLogger, teeLogger } from "../telemetry/recorder";
import { openTelemetryStore, type TelemetryStore } from "../telemetry/store";
import { createWorkerApi } from "./app";

const TOKEN = "telemetry-test-token";
const TASK = "11111111-1111-4111-8111-111111111111";
const JOB = "22222222-2222-4222-8222-222222222222";
let dir: string;
let store: TelemetryStore;
let app: ReturnType<typeof createWorkerApi>;
const mem = memoryLogger("node");

const job: RunJobRequest = { version: 1, task_id: TASK, job_id: JOB, sandbox: { command: ["true"] } };
// The runner below is a stand-in: this file tests what the recorder writes, not the sandbox.
const answer = (stdout: string) => ({
  version: 1 as const,
  task_id: TASK,
  job_id: JOB,
  status: "completed" as const,
  exit_code: 0,
  stdout,
  stderr: "warn line\n",
  started_at: "2026-01-01T00:00:00Z",
  ended_at: "2026-01-01T00:00:01Z",
  truncated: { stdout: false, stderr: false },
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cynode-telemetry-api-"));
  store = openTelemetryStore(dir);
  const log = teeLogger(mem, storeLogger(store));
  const runner = recordingRunner(
    {
      run: async (j: RunJobRequest) => answer(`${j.job_id}\n${"x\n".repeat(MAX_JOB_LOG_LINES + 5)}`),
      cancel: async () => false,
    },
    { store, nodeSlug: "tele-node", defaultImage: "localhost/cynode-sandbox:latest" },
  );
  app = createWorkerApi({
    runner,
    bearerToken: () => TOKEN,
    notReadyReason: () => null,
    log: log.child({ part: "worker-api" }),
    telemetry: () => ({
      store,
      info: () => nodeInfo("tele-node", undefined),
      stats: () => nodeStats({ stateDir: dir, podmanVersion: "5.0.0", now: new Date() }),
    }),
  });
  log.info("node ready", { psk: "must-not-be-stored" });
  const ran = await app.request("/v1/worker/jobs:run", {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(job),
  });
  expect(ran.status).toBe(200);
});

afterAll(async () => {
  store.close();
  await rm(dir, { recursive: true, force: true });
});

const get = async (path: string, token = TOKEN) => {
  const res = await app.request(path, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as any };
};

describe("Worker Telemetry API", () => {
  it("refuses every route without the orchestrator's bearer token", async () => {
    for (const path of [
      WORKER_API.nodeInfo.path(),
      WORKER_API.nodeStats.path(),
      WORKER_API.containers.path(),
      WORKER_API.logs.path(),
    ])
      expect((await get(path, "wrong")).status).toBe(401);
  });

  it("answers node:info and node:stats in the reference's shapes", async () => {
    const info = await get(WORKER_API.nodeInfo.path());
    expect(v.parse(NodeInfo, info.body)).toMatchObject({ version: 1, node_slug: "tele-node" });
    const stats = await get(WORKER_API.nodeStats.path());
    expect(v.parse(NodeStats, stats.body).container_runtime).toEqual({ runtime: "podman", version: "5.0.0" });
    expect(stats.body.memory.total_mb).toBeGreaterThan(0);
  });

  it("lists the job's sandbox container and answers it by id, 404 for an unknown one", async () => {
    const list = await get(`${WORKER_API.containers.path()}?kind=sandbox&task_id=${TASK}`);
    const [c] = v.parse(ContainerList, list.body).containers;
    expect(c).toMatchObject({
      container_id: `cynodeai-job-tele-node-${TASK}-${JOB}`,
      status: "exited",
      exit_code: 0,
      job_id: JOB,
    });
    expect(c!.labels["cynodeai.node"]).toBe("tele-node");
    expect((await get(WORKER_API.container.path({ id: c!.container_id }))).body.container).toEqual(c);
    expect((await get(WORKER_API.container.path({ id: "nope" }))).status).toBe(404);
    expect((await get(`${WORKER_API.containers.path()}?kind=managed`)).body.containers).toEqual([]);
  });

  it("answers container and service logs, bounded, with no secret in them", async () => {
    const id = `cynodeai-job-tele-node-${TASK}-${JOB}`;
    const out = await get(`${WORKER_API.logs.path()}?source_kind=container&container_id=${id}&stream=stdout&limit=2`);
    const body = v.parse(LogsResponse, out.body);
    expect([body.events.map((e) => e.message), body.truncated.limited_by]).toEqual([[JOB, "x"], "count"]);
    const all = await get(
      `${WORKER_API.logs.path()}?source_kind=container&container_id=${id}&stream=stdout&limit=5000`,
    );
    expect(all.body.events.length).toBe(MAX_JOB_LOG_LINES);
    const manager = await get(`${WORKER_API.logs.path()}?source_kind=service&source_name=node_manager`);
    expect(manager.body.events.map((e: { message: string }) => e.message)).toEqual(["node ready"]);
    expect(manager.body.events[0].fields.psk).toBe("[REDACTED]");
    expect(JSON.stringify(manager.body)).not.toContain("must-not-be-stored");
    const api = await get(`${WORKER_API.logs.path()}?source_kind=service&source_name=worker_api`);
    expect(api.body.events.length).toBeGreaterThan(0);
    expect(api.body.events.every((e: { fields: { part: string } }) => e.fields.part === "worker-api")).toBe(true);
  });

  it("answers 400 for a query it cannot serve", async () => {
    for (const q of [
      "",
      "?source_kind=service",
      "?source_kind=container&container_id=x&stream=both",
      "?source_kind=service&source_name=worker_api&limit=0",
      "?source_kind=service&source_name=worker_api&since=yesterday",
      "?source_kind=service&source_name=worker_api&page_token=nope",
    ])
      expect((await get(WORKER_API.logs.path() + q)).status).toBe(400);
    expect((await get(`${WORKER_API.containers.path()}?limit=1001`)).status).toBe(400);
    expect((await get(`${WORKER_API.containers.path()}?task_id=not-a-uuid`)).status).toBe(400);
  });

  it("answers 503 before the node has a telemetry store", async () => {
    const bare = createWorkerApi({
      runner: { run: async () => answer(""), cancel: async () => false },
      bearerToken: () => TOKEN,
      notReadyReason: () => null,
      log: memoryLogger("bare"),
    });
    const res = await bare.request(WORKER_API.nodeInfo.path(), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(503);
  });
});
