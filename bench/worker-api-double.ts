/**
 * WORKER-API TEST DOUBLE for `bench cluster`: N simulated worker nodes in one process, each a real HTTP server
 * registered with the orchestrator's control-plane as a real node would be (register, config, ack, periodic
 * capability reports). `jobs:run` answers "completed" after a random delay and is idempotent by job_id per node,
 * as the real worker is. `GET /stats` on the stats port tells how many times each job was executed (run twice > 1).
 * Usage: bun bench/worker-api-double.ts <control-plane URL> <psk> <nodes> <slug prefix>
 */
import * as v from "valibot";
import { NodeBootstrapPayload, NodeConfigurationPayload } from "../src/contracts/node-payloads";
import { CONTROL_PLANE_API } from "../src/contracts/routes";
import { RunJobRequest, type RunJobResponse } from "../src/contracts/worker-api";
import { completedRun } from "../src/testing/completed-run";

const [cpUrl, psk, count, prefix] = process.argv.slice(2) as [string, string, string, string];
const MAX_CONCURRENCY = 4;
const DELAY_MS = { min: 20, max: 200 };
const REPORT_EVERY_MS = 20_000;

const executions = new Map<string, number>();

function capability(slug: string, url: string) {
  return {
    version: 1,
    reported_at: new Date().toISOString(),
    node: { node_slug: slug },
    platform: { os: "linux", arch: "amd64" },
    compute: { cpu_cores: 4, ram_mb: 8192 },
    sandbox: { supported: true, max_concurrency: MAX_CONCURRENCY },
    worker_api: { base_url: url },
    inference: { supported: false, running: false },
  };
}

async function post(path: string, body: unknown, jwt?: string): Promise<Response> {
  return fetch(cpUrl + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...(jwt ? { authorization: `Bearer ${jwt}` } : {}) },
    body: JSON.stringify(body),
  });
}

function answer(req: RunJobRequest): RunJobResponse {
  return completedRun(req, { at: new Date().toISOString() });
}

async function startNode(slug: string): Promise<void> {
  let token = "";
  const runs = new Map<string, Promise<RunJobResponse>>();
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const path = new URL(request.url).pathname;
      if (path === "/healthz") return new Response("ok");
      if (request.headers.get("authorization") !== `Bearer ${token}`) return new Response("no", { status: 401 });
      if (path !== "/v1/worker/jobs:run") return Response.json({ canceled: false });
      const req = v.parse(RunJobRequest, await request.json());
      let run = runs.get(req.job_id);
      if (!run) {
        executions.set(req.job_id, (executions.get(req.job_id) ?? 0) + 1);
        const delay = DELAY_MS.min + Math.random() * (DELAY_MS.max - DELAY_MS.min);
        run = Bun.sleep(delay).then(() => answer(req));
        runs.set(req.job_id, run);
      }
      return Response.json(await run);
    },
  });
  const url = `http://127.0.0.1:${server.port}`;
  const boot = v.parse(
    NodeBootstrapPayload,
    await (await post(CONTROL_PLANE_API.register.path(), { psk, capability: capability(slug, url) })).json(),
  );
  const jwt = boot.auth.node_jwt;
  const config = v.parse(
    NodeConfigurationPayload,
    await (
      await fetch(cpUrl + CONTROL_PLANE_API.config.path(), { headers: { authorization: `Bearer ${jwt}` } })
    ).json(),
  );
  token = config.worker_api!.orchestrator_bearer_token!;
  const ack = { version: 1, node_slug: slug, config_version: config.config_version, status: "applied" };
  const acked = await post(CONTROL_PLANE_API.config.path(), ack, jwt);
  if (acked.status !== 204) throw new Error(`${slug}: ack answered ${acked.status}`);
  setInterval(
    () => void post(CONTROL_PLANE_API.capability.path(), capability(slug, url), jwt).catch(() => {}),
    REPORT_EVERY_MS,
  );
}

for (let i = 0; i < Number(count); i++) await startNode(`${prefix}-${String(i).padStart(2, "0")}`);
const stats = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch: () => Response.json(Object.fromEntries(executions)),
});
console.log(
  JSON.stringify({ msg: "worker-api double ready", nodes: Number(count), stats_url: `http://127.0.0.1:${stats.port}` }),
);
