/**
 * Test support for the dispatcher: a fake Worker API (a real hono app on a real port, speaking the worker
 * contract), nodes walked to dispatchable through the real control-plane, and task/job rows inserted directly.
 */
import { Hono } from "hono";
import * as v from "valibot";
import { NodeBootstrapPayload, NodeConfigurationPayload } from "../../contracts/node-payloads";
import { CONTROL_PLANE_API } from "../../contracts/routes";
import { RunJobRequest, type RunJobResponse } from "../../contracts/worker-api";
import type { createControlPlane } from "../control-plane/app";
import type { Db } from "../db/connect";

export const TEST_PSK = "dispatch-test-psk";

export type FakeWorker = {
  url: string;
  /** The bearer token the orchestrator must send; set from the node's config. */
  token: string;
  runs: RunJobRequest[];
  cancels: string[];
  peak: number;
  /** How the next run requests are answered; default: completed after `hold` is released. */
  answer: (req: RunJobRequest) => Response | Promise<Response>;
  release(): void;
  waitForRuns(n: number): Promise<void>;
  stop(): Promise<void>;
};

export function completedResponse(req: RunJobRequest, status: RunJobResponse["status"] = "completed"): RunJobResponse {
  return {
    version: 1,
    task_id: req.task_id,
    job_id: req.job_id,
    status,
    exit_code: status === "completed" ? 0 : 1,
    stdout: `ran ${req.job_id}`,
    stderr: "",
    started_at: "2026-03-01T10:00:00Z",
    ended_at: "2026-03-01T10:00:01Z",
    truncated: { stdout: false, stderr: false },
  };
}

export function startFakeWorker(opts: { hold?: boolean } = {}): FakeWorker {
  const gate = Promise.withResolvers<void>();
  if (!opts.hold) gate.resolve();
  let inFlight = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const app = new Hono();
  const worker: FakeWorker = {
    url: "",
    token: "",
    runs: [],
    cancels: [],
    peak: 0,
    answer: async (req) => {
      await gate.promise;
      return Response.json(completedResponse(req));
    },
    release: () => gate.resolve(),
    waitForRuns(n) {
      if (worker.runs.length >= n) return Promise.resolve();
      const { promise, resolve } = Promise.withResolvers<void>();
      waiters.push({ n, resolve });
      return promise;
    },
    stop: () => server.stop(true),
  };
  app.get("/healthz", (c) => c.text("ok"));
  app.use(async (c, next) => {
    if (c.req.header("authorization") !== `Bearer ${worker.token}`)
      return c.json({ detail: "Invalid or missing bearer token" }, 401);
    await next();
  });
  app.post("/v1/worker/jobs:run", async (c) => {
    const req = v.parse(RunJobRequest, await c.req.json());
    worker.runs.push(req);
    inFlight++;
    worker.peak = Math.max(worker.peak, inFlight);
    for (const w of waiters.filter((w) => worker.runs.length >= w.n)) w.resolve();
    try {
      return await worker.answer(req);
    } finally {
      inFlight--;
    }
  });
  app.post("/v1/worker/jobs/*", (c) => {
    worker.cancels.push(decodeURIComponent(c.req.path.slice("/v1/worker/jobs/".length).replace(/:cancel$/, "")));
    return c.json({ canceled: true });
  });
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch });
  worker.url = `http://127.0.0.1:${server.port}`;
  return worker;
}

const capability = (slug: string, workerUrl: string, maxConcurrency?: number, inference = false) => ({
  version: 1,
  reported_at: "2026-03-01T10:00:00Z",
  node: { node_slug: slug },
  platform: { os: "linux", arch: "amd64" },
  compute: { cpu_cores: 8, ram_mb: 8192 },
  sandbox: { supported: true, ...(maxConcurrency ? { max_concurrency: maxConcurrency } : {}) },
  worker_api: { base_url: workerUrl },
  inference: { supported: inference, running: inference },
});

/** Registers the node, fetches its config (handing the worker token to the fake worker) and acks it. */
export async function readyNode(
  cp: ReturnType<typeof createControlPlane>,
  slug: string,
  worker: FakeWorker,
  maxConcurrency?: number,
  opts: { inference?: boolean } = {},
): Promise<string> {
  const post = (path: string, body: unknown, jwt?: string) =>
    cp.request(path, {
      method: "POST",
      headers: { "content-type": "application/json", ...(jwt ? { authorization: `Bearer ${jwt}` } : {}) },
      body: JSON.stringify(body),
    });
  const boot = v.parse(
    NodeBootstrapPayload,
    await (
      await post(CONTROL_PLANE_API.register.path(), {
        psk: TEST_PSK,
        capability: capability(slug, worker.url, maxConcurrency, opts.inference),
      })
    ).json(),
  );
  const jwt = boot.auth.node_jwt;
  const config = v.parse(
    NodeConfigurationPayload,
    await (await cp.request(CONTROL_PLANE_API.config.path(), { headers: { authorization: `Bearer ${jwt}` } })).json(),
  );
  worker.token = config.worker_api!.orchestrator_bearer_token!;
  const ack = await post(
    CONTROL_PLANE_API.config.path(),
    { version: 1, node_slug: slug, config_version: config.config_version, status: "applied" },
    jwt,
  );
  if (ack.status !== 204) throw new Error(`ack failed: ${ack.status}`);
  return jwt;
}

let sequence = 0;

/** A pending task with one queued job; jobs are created one millisecond apart so their order is defined. */
export async function insertTaskWithJob(
  db: Db,
  payload: unknown = { image: "alpine", command: ["true"] },
): Promise<{ taskId: string; jobId: string }> {
  const taskId = crypto.randomUUID();
  const jobId = crypto.randomUUID();
  const created = new Date(Date.UTC(2026, 2, 1, 9, 0, 0, sequence++));
  await db
    .insertInto("tasks")
    .values({
      id: taskId,
      created_by: null,
      project_id: null,
      plan_id: null,
      status: "pending",
      prompt: "p",
      summary: null,
      description: null,
      acceptance_criteria: null,
      metadata: null,
      created_at: created,
      updated_at: created,
    })
    .execute();
  await db
    .insertInto("jobs")
    .values({
      id: jobId,
      task_id: taskId,
      node_id: null,
      status: "queued",
      payload,
      result: null,
      lease_id: null,
      lease_expires_at: null,
      started_at: null,
      ended_at: null,
      created_at: created,
      updated_at: created,
    })
    .execute();
  return { taskId, jobId };
}
