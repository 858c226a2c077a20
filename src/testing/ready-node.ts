/** TEST SUPPORT: a node walked to dispatchable through the real control-plane, as a worker node would. */
import * as v from "valibot";
import { CONTROL_PLANE_API } from "../contracts/routes";
import type { createControlPlane } from "../orchestrator/control-plane/app";
import { capabilityBase } from "./capability-report";
import type { FakeWorker } from "./fake-worker";

export const TEST_PSK = "dispatch-test-psk";

/** A test node's capability report: 8 cores, sandbox (at most `maxConcurrency` jobs), inference when asked. */
export const testCapability = (slug: string, workerUrl: string, maxConcurrency?: number, inference = false) => ({
  ...capabilityBase(slug, "2026-03-01T10:00:00Z", { cpu_cores: 8, ram_mb: 8192 }),
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
  const API = CONTROL_PLANE_API;
  const send = (route: { method: string; path: () => string }, body?: unknown, jwt?: string) =>
    cp.request(route.path(), {
      method: route.method,
      headers: { "content-type": "application/json", ...(jwt ? { authorization: `Bearer ${jwt}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const registered = await send(API.register, {
    psk: TEST_PSK,
    capability: testCapability(slug, worker.url, maxConcurrency, opts.inference),
  });
  const jwt = v.parse(API.register.response, await registered.json()).auth.node_jwt;
  const config = v.parse(API.config.response, await (await send(API.config, undefined, jwt)).json());
  worker.token = config.worker_api!.orchestrator_bearer_token!;
  const ack = await send(
    API.configAck,
    { version: 1, node_slug: slug, config_version: config.config_version, status: "applied" },
    jwt,
  );
  if (ack.status !== 204) throw new Error(`ack failed: ${ack.status}`);
  return jwt;
}
