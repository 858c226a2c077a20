/** Steps against a real worker node: its Worker API and sandbox, as the orchestrator's dispatcher talks to it. */
import type { EgressAttempt } from "../../src/contracts/egress";
import { Given, Then, When } from "@cucumber/cucumber";
import { expect } from "bun:test";
import { networkInterfaces } from "node:os";
import type { RunJobRequest } from "../../src/contracts/worker-api";
import { NODE_PSK } from "../support/orchestrator-process";
import { runningWorkerNode } from "../support/system";
import { nodeIdentityOf } from "../support/worker-node-process";
import type { CyWorld } from "../support/world";

type JobWorld = CyWorld & { job?: RunJobRequest; listener?: { port: number; connections: number } };

Given("a running worker node {string}", { timeout: 240_000 }, async function (this: CyWorld, slug: string) {
  await runningWorkerNode(this, slug);
});
Given(
  "a running worker node {string} without warm sandboxes",
  { timeout: 240_000 },
  async function (this: CyWorld, slug: string) {
    await runningWorkerNode(this, slug, { warmPool: 0 });
  },
);

/**
 * The token the orchestrator hands the node in its config, fetched the way the node does (register with the PSK,
 * GET the config) with its key's proof. Registering again keeps the node's worker URL and token.
 */
Given("I hold the orchestrator's bearer token for that node", async function (this: CyWorld) {
  const cp = this.orchestrator!.controlPlaneUrl;
  const report = {
    version: 1,
    reported_at: new Date().toISOString(),
    node: { node_slug: this.workerNode!.slug },
    platform: { os: "linux", arch: "amd64" },
    compute: { cpu_cores: 1, ram_mb: 1024 },
  };
  const node_identity = await nodeIdentityOf(this.workerNode!);
  await this.call(
    "POST",
    "/v1/nodes/register",
    { psk: NODE_PSK, capability: report, node_identity },
    { base: cp, token: null },
  );
  expect(this.response!.status).toBe(200);
  await this.call("GET", "/v1/nodes/config", undefined, { base: cp, token: this.json.auth.node_jwt });
  expect(this.response!.status).toBe(200);
  this.workerToken = this.json.worker_api.orchestrator_bearer_token;
});

function job(script: string, sandbox: Partial<RunJobRequest["sandbox"]> = {}): RunJobRequest {
  return {
    version: 1,
    task_id: crypto.randomUUID(),
    job_id: crypto.randomUUID(),
    sandbox: { command: ["sh", "-c", script], ...sandbox },
  };
}

async function send(w: JobWorld, body: RunJobRequest | undefined, token: string | null, raw?: Uint8Array) {
  w.job = body;
  await w.call("POST", "/v1/worker/jobs:run", body, { base: w.workerNode!.workerApiUrl, token, raw });
}

async function run(w: JobWorld, body: RunJobRequest) {
  await send(w, body, w.workerToken!);
  expect(`${w.response!.status} ${w.text}`).toStartWith("200");
}

When("I send a job running {string} to the Worker API with no bearer token", function (this: JobWorld, script: string) {
  return send(this, job(script), null);
});
When(
  "I send a job running {string} to the Worker API with bearer token {string}",
  function (this: JobWorld, script: string, token: string) {
    return send(this, job(script), token);
  },
);
When("I send a job with network policy {string}", function (this: JobWorld, policy: string) {
  return send(this, job("true", { network_policy: policy as "none" }), this.workerToken!);
});
When("I run the job {string} with network policy {string}", function (this: JobWorld, script: string, policy: string) {
  return run(this, job(script, { network_policy: policy as "restricted" }));
});
Then("the job's egress record is {string}", function (this: JobWorld, line: string) {
  const rows = (this.json.egress as EgressAttempt[]).map((a) => `${a.host}:${a.port} ${a.kind} ${a.decision}`);
  expect(rows).toEqual([line]);
});
When("I send a job whose body is larger than 10 MiB", function (this: JobWorld) {
  const body = job("true", { env: { BIG: "x".repeat(10 * 1024 * 1024 + 1) } });
  return send(this, undefined, this.workerToken!, new TextEncoder().encode(JSON.stringify(body)));
});
When("I run the job {string}", function (this: JobWorld, script: string) {
  return run(this, job(script));
});
When(
  "I run the job {string} with a timeout of {int} second(s)",
  function (this: JobWorld, script: string, seconds: number) {
    return run(this, job(script, { timeout_seconds: seconds }));
  },
);
When(
  "I run the job {string} with env CYNODE_TASK_ID={string} and CYNODE_PROMPT={string}",
  function (this: JobWorld, script: string, task: string, prompt: string) {
    return run(this, job(script, { env: { CYNODE_TASK_ID: task, CYNODE_PROMPT: prompt } }));
  },
);

Then("the job status is {string} with exit code {int}", function (this: JobWorld, status: string, code: number) {
  expect(this.json).toMatchObject({
    version: 1,
    task_id: this.job!.task_id,
    job_id: this.job!.job_id,
    status,
    exit_code: code,
  });
});
Then("the job stdout is {string}", function (this: JobWorld, text: string) {
  expect(this.json.stdout).toBe(text.replaceAll("\\n", "\n"));
});
Then("the job stdout contains {string}", function (this: JobWorld, text: string) {
  expect(this.json.stdout).toContain(text);
});
Then("the job stdout does not contain {string}", function (this: JobWorld, text: string) {
  expect(this.json.stdout).not.toContain(text);
});
Then("the job stderr contains {string}", function (this: JobWorld, text: string) {
  expect(this.json.stderr).toContain(text);
});
Then("the job stdout names the job's task id", function (this: JobWorld) {
  expect(this.json.stdout).toContain(`task=${this.job!.task_id}`);
});
Then("the job stdout names the job's task id, job id and workspace {string}", function (this: JobWorld, ws: string) {
  expect(this.json.stdout).toContain(`task=${this.job!.task_id} job=${this.job!.job_id} ws=${ws}`);
});
Then("the job stdout is {int} bytes long and flagged truncated", function (this: JobWorld, n: number) {
  expect(Buffer.byteLength(this.json.stdout)).toBe(n);
  expect(this.json.truncated.stdout).toBe(true);
});
Then("the job stderr is not flagged truncated", function (this: JobWorld) {
  expect(this.json.truncated.stderr).toBe(false);
});

/** An address of this host that a container on a normal network could reach (not loopback). */
export function hostAddress(): string {
  const v4 = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === "IPv4" && !a.internal);
  if (!v4) throw new Error("this host has no non-loopback IPv4 address to aim at");
  return v4.address;
}

Given("a TCP server on all of this host's interfaces", function (this: JobWorld) {
  const state = { port: 0, connections: 0 };
  const server = Bun.listen({
    hostname: "0.0.0.0",
    port: 0,
    socket: { open: () => void state.connections++, data: () => {} },
  });
  state.port = server.port;
  this.listener = state;
  this.scenario.add("tcp server", async () => server.stop(true));
});
When(
  "I run a job with network policy {string} that connects to that server",
  function (this: JobWorld, policy: string) {
    // busybox nc exits non-zero when the connect fails; the interface list shows what network the sandbox has.
    const script = `if echo probe | nc -w 3 ${hostAddress()} ${this.listener!.port}; then echo CONNECTED; else echo BLOCKED; fi; cat /proc/net/dev`;
    return run(this, job(script, { network_policy: policy as "none" }));
  },
);
Then("the TCP server saw no connection", function (this: JobWorld) {
  expect(this.listener!.connections).toBe(0);
});
Then("the job saw only the loopback interface", function (this: JobWorld) {
  const interfaces = [...this.json.stdout.matchAll(/^\s*([\w.-]+):\s+\d/gm)].map((m: RegExpMatchArray) => m[1]);
  expect(interfaces).toEqual(["lo"]);
});

When("I check the Worker API {string}", function (this: JobWorld, path: string) {
  return this.call("GET", path, undefined, { base: this.workerNode!.workerApiUrl, token: null });
});
