import { afterAll, describe, expect, it } from "bun:test";
import type { NodeCapabilityReport } from "../../contracts/node-payloads";
import type { RunJobRequest } from "../../contracts/worker-api";
import { completedRun } from "../../testing/completed-run";
import { testNodeConfig, testNodeContext } from "../../testing/node-config";
import { createNodeMetrics } from "../metrics";
import { containerName } from "../sandbox/job-sandbox";
import { openTelemetryStore } from "../telemetry/store";
import type { NodeState } from "./node-context";
import { listenWorkerApi } from "./worker-api-listener";

const config = await testNodeConfig({
  yaml: "worker_api: { listen_host: 127.0.0.1, listen_port: 0 }\n",
  env: { NODE_SLUG: "listener-node" },
});
const store = openTelemetryStore(config.storage.state_dir);
const state: NodeState = { notReady: "starting: registering with the orchestrator" };
const runs: RunJobRequest[] = [];
const api = listenWorkerApi(testNodeContext(config, state), {
  runner: {
    run: async (job) => {
      runs.push(job);
      return completedRun(job, { stdout: "ran\n" });
    },
    cancel: async () => false,
  },
  inference: { relaySocket: () => undefined },
  metrics: createNodeMetrics(),
  store,
  podmanVersion: "4.3.1",
});
afterAll(async () => {
  await api.stop();
  store.close();
});

const job = { version: 1, task_id: crypto.randomUUID(), job_id: crypto.randomUUID(), sandbox: { command: ["true"] } };
const runJob = () =>
  fetch(new URL("/v1/worker/jobs:run", api.advertisedUrl), {
    method: "POST",
    headers: { authorization: "Bearer from-config" },
    body: JSON.stringify(job),
  });

describe("the Worker API listener", () => {
  it("listens before the node is ready and says what it waits for", async () => {
    expect(api.advertisedUrl).toBe(`http://127.0.0.1:${api.port}`);
    const res = await fetch(new URL("/readyz", api.advertisedUrl));
    expect([res.status, await res.text()]).toEqual([503, "starting: registering with the orchestrator"]);
    expect((await runJob()).status).toBe(401);
  });

  it("runs a job once the config is applied, keeps its result for a repeated call, and records its container", async () => {
    state.applied = { bearerToken: "from-config", maxRequestBytes: 1024, allowedImages: [] };
    state.notReady = null;
    expect(await (await fetch(new URL("/readyz", api.advertisedUrl))).text()).toBe("ready");
    const first = await runJob();
    expect(first.status).toBe(200);
    expect(await (await runJob()).json()).toEqual(await first.json());
    expect(runs.length).toBe(1);
    expect(store.container(containerName(job, "listener-node"))).toMatchObject({
      status: "exited",
      job_id: job.job_id,
    });
  });

  it("answers node:info with the last capability report", async () => {
    state.lastReport = {
      version: 1,
      node: { node_slug: "listener-node" },
      platform: { os: "linux", arch: "amd64", kernel_version: "6.1.0" },
    } as NodeCapabilityReport;
    const res = await fetch(new URL("/v1/worker/telemetry/node:info", api.advertisedUrl), {
      headers: { authorization: "Bearer from-config" },
    });
    expect(await res.json()).toMatchObject({
      node_slug: "listener-node",
      platform: { os: "linux", arch: "amd64", kernel_version: "6.1.0" },
      last_capability_report: state.lastReport,
    });
  });
});
