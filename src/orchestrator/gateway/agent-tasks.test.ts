import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import * as v from "valibot";
import { NODE_ERRORS } from "../../contracts/node-payloads";
import { CONTROL_PLANE_API } from "../../contracts/routes";
import { parseJobSpec, type SbaResult } from "../../contracts/sba";
import { memoryLogger } from "../../lib/log";
import { serveApp, type Served } from "../../lib/serve";
import { completedRun } from "../../testing/completed-run";
import { secrets } from "../../testing/dispatch-fixture";
import { startFakeWorker, type FakeWorker } from "../../testing/fake-worker";
import { problemOf, startGatewayFixture, type GatewayFixture } from "../../testing/gateway-fixture";
import { readyNode, TEST_PSK, testCapability } from "../../testing/ready-node";
import { until } from "../../testing/until";
import { createControlPlane } from "../control-plane/app";
import { createDispatcher, type Dispatcher } from "../dispatch/dispatch-loop";
import { PROGRESS_DROPPED_LINE } from "../db/job-progress";
import { AGENT_MAX_OUTPUT_BYTES, NO_AGENT_MODEL } from "../tasks/agent-job";

let f: GatewayFixture;
let cp: ReturnType<typeof createControlPlane>;
let cpServer: Served;
let alice: string;
let agentNode: { worker: FakeWorker; jwt: string };
let otherNode: { worker: FakeWorker; jwt: string };
let dispatcher: Dispatcher;

/** A node serving `models`, walked to dispatchable through the control-plane. */
async function inferenceNode(slug: string, models: string[]) {
  const worker = startFakeWorker({ hold: true });
  const jwt = await readyNode(cp, slug, worker, 2, { inference: true });
  const report = {
    ...testCapability(slug, worker.url, 2, true),
    inference: { supported: true, running: true, available_models: models },
  };
  const res = await nodeCall(CONTROL_PLANE_API.capability.path(), jwt, report);
  if (res.status !== 204) throw new Error(`capability: ${res.status}`);
  return { worker, jwt };
}

const nodeCall = (path: string, jwt: string | undefined, body: unknown) =>
  fetch(new URL(path, cpServer.url), {
    method: "POST",
    headers: { "content-type": "application/json", ...(jwt ? { authorization: `Bearer ${jwt}` } : {}) },
    body: JSON.stringify(body),
  });
const progress = (jobId: string, jwt: string | undefined, body: unknown) =>
  nodeCall(CONTROL_PLANE_API.jobProgress.path({ job_id: jobId }), jwt, body);

beforeAll(async () => {
  f = await startGatewayFixture({
    deps: { jobDefaults: { sandboxImage: "localhost/cynode-sandbox:latest", inferenceModel: "qwen-default" } },
  });
  cp = createControlPlane({
    db: f.t.db,
    tokens: f.tokens,
    secrets,
    log: memoryLogger("cp"),
    registrationPsk: TEST_PSK,
    publicUrl: "http://orch.test:12082",
  });
  cpServer = serveApp(cp, { hostname: "127.0.0.1", port: 0 });
  alice = (await f.login("alice")).access_token;
  agentNode = await inferenceNode("agent-node", ["qwen-default", "other-model"]);
  otherNode = await inferenceNode("other-node", ["other-model"]);
  dispatcher = createDispatcher({ db: f.t.db, secrets, log: memoryLogger("dispatch") });
});
afterAll(async () => {
  agentNode.worker.release();
  otherNode.worker.release();
  await dispatcher.drain();
  await agentNode.worker.stop();
  await otherNode.worker.stop();
  await cpServer.stop();
  await f.close();
});

const createAgentTask = async (body: Record<string, unknown>) => {
  const res = await f.call("POST", "/v1/tasks", { token: alice, body: { use_sba: true, ...body } });
  return { status: res.status, body: await res.json() };
};
const jobOf = (taskId: string) =>
  f.t.db.selectFrom("jobs").selectAll().where("task_id", "=", taskId).executeTakeFirstOrThrow();
const logsOf = async (taskId: string) =>
  (await (await f.call("GET", `/v1/tasks/${taskId}/logs`, { token: alice })).json()) as { stdout: string };

describe("POST /v1/tasks with use_sba", () => {
  it("queues one agent job carrying the reference's job spec, valid by the shared schema", async () => {
    const { status, body } = await createAgentTask({ prompt: "List the files", input_mode: "script" });
    expect(status).toBe(201);
    const job = await jobOf(body.task_id);
    const payload = job.payload as { job_spec_json: string; image: string; command?: string[] };
    expect(payload.command).toBeUndefined();
    expect(payload.image).toBe("localhost/cynode-sandbox:latest");
    const parsed = parseJobSpec(payload.job_spec_json);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.spec).toEqual({
      protocol_version: "1.0",
      job_id: job.id,
      task_id: body.task_id,
      execution_mode: "agent_inference",
      constraints: { max_runtime_seconds: 300, max_output_bytes: AGENT_MAX_OUTPUT_BYTES, ext_net_allowed: false },
      inference: { allowed_models: ["qwen-default"], source: "orchestrator" },
      context: { task_context: "List the files" },
    });
    expect(AGENT_MAX_OUTPUT_BYTES).toBeGreaterThan(1024);
  });

  it("keeps the sandbox's model proxy only when use_inference asks for it", async () => {
    const { body } = await createAgentTask({ prompt: "Ask the model yourself", use_inference: true });
    expect((await jobOf(body.task_id)).payload).toMatchObject({ use_inference: true, timeout_seconds: 300 });
    const plain = await createAgentTask({ prompt: "No proxy" });
    expect((await jobOf(plain.body.task_id)).payload).not.toHaveProperty("use_inference");
  });

  it("answers 400 problem+json when no model is configured nor served", async () => {
    const bare = await startGatewayFixture({
      database: { t: f.t, users: f.users },
      deps: { jobDefaults: { sandboxImage: "img", inferenceModel: "" } },
    });
    try {
      // Every node of this database goes quiet: nothing is served, and nothing is configured.
      await f.t.db
        .updateTable("nodes")
        .set({ last_capability_at: new Date(0), last_seen_at: new Date(0) })
        .execute();
      const token = (await bare.login("alice")).access_token;
      const res = await bare.call("POST", "/v1/tasks", { token, body: { prompt: "goal", use_sba: true } });
      const problem = await problemOf(res);
      expect(problem.status).toBe(400);
      expect(problem.contentType).toContain("application/problem+json");
      expect(problem.body.detail).toBe(NO_AGENT_MODEL);
    } finally {
      await f.t.db.updateTable("nodes").set({ last_capability_at: new Date(), last_seen_at: new Date() }).execute();
      await bare.close();
    }
  });
});

describe("an agent job on a node", () => {
  const sbaResult = (jobId: string): SbaResult => ({
    protocol_version: "1.0",
    job_id: jobId,
    status: "success",
    final_answer: "There is 1 interface.",
    steps: [{ index: 0, type: "run_command", status: "success", kind: "tool_call", exit_code: 0, output: "1\n" }],
    artifacts: [],
    failure_code: null,
    failure_message: null,
  });

  it("runs on an inference node with its allowed models; its step lines show in the logs until the result", async () => {
    // Jobs queued by the tests above are not this test's.
    await f.t.db.updateTable("jobs").set({ status: "canceled" }).where("status", "=", "queued").execute();
    // The node answers with the agent's record and a blank stdout: the final answer becomes stdout.
    const answered = Promise.withResolvers<void>();
    for (const n of [agentNode, otherNode])
      n.worker.answer = async (req) => {
        await answered.promise;
        return Response.json({ ...completedRun(req), sba_result: sbaResult(req.job_id) });
      };
    const { body } = await createAgentTask({ prompt: "Count the interfaces" });
    const taskId: string = body.task_id;
    const job = await jobOf(taskId);
    expect(await dispatcher.tick()).toBe(1);
    const node = await until(
      () => agentNode.worker.runs.length + otherNode.worker.runs.length === 1,
      "the agent job's Worker API call",
    ).then(() => (agentNode.worker.runs.length ? agentNode : otherNode));
    const other = node === agentNode ? otherNode : agentNode;
    const run = node.worker.runs[0]!;
    expect(run.job_id).toBe(job.id);
    expect(run.sandbox.job_spec_json).toBe((job.payload as { job_spec_json: string }).job_spec_json);
    expect(run.sandbox.command).toBeUndefined();
    expect(run.inference).toEqual({ allowed_models: ["qwen-default"] });

    // Only the node running the job reports for it.
    expect((await progress(job.id, other.jwt, { lines: ["forged"] })).status).toBe(403);
    expect((await progress(crypto.randomUUID(), node.jwt, { lines: ["x"] })).status).toBe(404);
    expect((await progress("not-a-job", node.jwt, { lines: ["x"] })).status).toBe(404);
    expect((await progress(job.id, undefined, { lines: ["x"] })).status).toBe(401);
    const bad = await progress(job.id, node.jwt, { lines: "step" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { detail: string }).detail).toStartWith(`${NODE_ERRORS.badBody}: lines:`);

    expect((await progress(job.id, node.jwt, { lines: ["step 1: model turn"] })).status).toBe(204);
    expect((await logsOf(taskId)).stdout).toBe("step 1: model turn\n");
    expect((await progress(job.id, node.jwt, { lines: ["step 2: run_command\nwc -l"] })).status).toBe(204);
    expect((await logsOf(taskId)).stdout).toBe("step 1: model turn\nstep 2: run_command wc -l\n");
    const running = await (await f.call("GET", `/v1/tasks/${taskId}/result`, { token: alice })).json();
    expect(running.jobs[0]).not.toHaveProperty("result");

    answered.resolve();
    await dispatcher.drain();
    const result = await (await f.call("GET", `/v1/tasks/${taskId}/result`, { token: alice })).json();
    expect(result.status).toBe("completed");
    const stored = JSON.parse(result.jobs[0].result);
    expect(stored.stdout).toBe("There is 1 interface.");
    expect(stored.sba_result).toEqual(sbaResult(job.id));
    expect((await logsOf(taskId)).stdout).toBe("There is 1 interface.");
    expect((await progress(job.id, node.jwt, { lines: ["late"] })).status).toBe(409);
  });

  it("caps a long step log with one marker line", async () => {
    const { body } = await createAgentTask({ prompt: "Many steps" });
    const job = await jobOf(body.task_id);
    await f.t.db.updateTable("jobs").set({ status: "running", node_id: null }).where("id", "=", job.id).execute();
    const nodeId = (
      await f.t.db.selectFrom("nodes").select("id").where("node_slug", "=", "agent-node").executeTakeFirstOrThrow()
    ).id;
    await f.t.db.updateTable("jobs").set({ node_id: nodeId }).where("id", "=", job.id).execute();
    const lines = Array.from({ length: 100 }, (_, i) => `step ${i}`);
    for (let i = 0; i < 11; i++) expect((await progress(job.id, agentNode.jwt, { lines })).status).toBe(204);
    const shown = (await logsOf(body.task_id)).stdout.trimEnd().split("\n");
    expect(shown).toHaveLength(1001);
    expect(shown.at(-1)).toBe(PROGRESS_DROPPED_LINE);
    expect(shown[999]).toBe("step 99");
    expect(v.is(v.array(v.string()), (await jobOf(body.task_id)).progress)).toBe(true);
  });
});
