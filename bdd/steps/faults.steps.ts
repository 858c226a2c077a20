/** Fault steps: nodes and the orchestrator killed with SIGKILL mid-job, in the scenario's own processes. */
import { Given, Then, When } from "@cucumber/cucumber";
import { expect } from "bun:test";
import { rm } from "node:fs/promises";
import { BOOTSTRAP_PASSWORD, startOrchestrator, type OrchestratorProcess } from "../support/orchestrator-process";
import { inferenceUpstream } from "../support/system";
import { startWorkerNode, type WorkerNode } from "../support/worker-node-process";
import type { CyWorld } from "../support/world";
import { until } from "../../src/testing/until";

type FaultWorld = CyWorld & {
  nodes: WorkerNode[];
  killedNode?: WorkerNode;
  /** Node slug the watched task's sandbox ran on, and when it was first seen running. */
  sandbox?: { node: string; seenAt: number };
  jobTimeoutSeconds: number;
  killedAt: number;
  batch: string[];
};

async function podmanJson(args: string[]): Promise<{ Labels?: Record<string, string> | null; State?: string }[]> {
  const proc = Bun.spawn(["podman", ...args, "--format", "json"], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error(`podman ${args.join(" ")} failed`);
  return JSON.parse(out || "[]") ?? [];
}
/** Nodes (by slug) that run a container of the task. */
const taskSandboxNodes = async (taskId: string) =>
  (await podmanJson(["ps", "--filter", `label=cynodeai.task_id=${taskId}`])).map(
    (c) => c.Labels?.["cynodeai.node"] ?? "",
  );

async function taskResult(w: CyWorld, taskId: string) {
  await w.call("GET", `/v1/tasks/${taskId}/result`);
  expect(w.response!.status).toBe(200);
  return w.json as { status: string; jobs: { id: string; status: string; result?: string }[] };
}
const TERMINAL = ["completed", "failed", "canceled"];

async function createTask(w: CyWorld, script: string): Promise<string> {
  await w.call("POST", "/v1/tasks", { prompt: script, input_mode: "commands" });
  expect(w.response!.status).toBe(201);
  return w.json.task_id ?? w.json.id;
}

Given(
  "an orchestrator with worker nodes {string} and {string} whose jobs time out after {int} seconds",
  { timeout: 300_000 },
  async function (this: FaultWorld, a: string, b: string, seconds: number) {
    const orchestrator = await startOrchestrator();
    // After a restart this stops the new process; the state dir is the first one's either way.
    this.scenario.add("orchestrator", async () => {
      await this.orchestrator!.stop();
      await rm(orchestrator.stateDir, { recursive: true, force: true });
    });
    this.orchestrator = orchestrator;
    this.jobTimeoutSeconds = seconds;
    const upstream = (await inferenceUpstream()).url;
    this.nodes = await Promise.all(
      [a, b].map((slug) =>
        startWorkerNode({
          orchestratorUrl: orchestrator.controlPlaneUrl,
          slug,
          jobTimeoutSeconds: seconds,
          // Cold sandboxes: the scenario finds the lost job's container by its task label (see WorkerNodeOptions).
          warmPool: 0,
          env: { OLLAMA_UPSTREAM_URL: upstream },
        }),
      ),
    );
    for (const n of this.nodes) this.scenario.add(n.slug, n.stop);
  },
);

Given("I am logged in to it as {string}", async function (this: FaultWorld, handle: string) {
  await this.call("POST", "/v1/auth/login", { handle, password: BOOTSTRAP_PASSWORD }, { token: null });
  expect(this.response!.status).toBe(200);
  this.tokens = this.json;
});

When("I create a task running {string}", async function (this: FaultWorld, script: string) {
  this.taskId = await createTask(this, script);
});

When("the task's sandbox runs on one of the nodes", { timeout: 120_000 }, async function (this: FaultWorld) {
  await until(async () => (await taskSandboxNodes(this.taskId!)).length > 0, "the task's sandbox runs", {
    timeoutMs: 110_000,
    intervalMs: 250,
  });
  const [node] = await taskSandboxNodes(this.taskId!);
  this.sandbox = { node: node!, seenAt: Date.now() };
  expect(this.nodes.map((n) => n.slug)).toContain(node!);
});

When("that node is killed with SIGKILL", async function (this: FaultWorld) {
  this.killedNode = this.nodes.find((n) => n.slug === this.sandbox!.node)!;
  process.kill(this.killedNode.process.pid, "SIGKILL");
  await this.killedNode.process.exited;
  this.killedAt = Date.now();
});

When("I create {int} tasks running {string}", async function (this: FaultWorld, n: number, script: string) {
  this.batch = [];
  for (let i = 0; i < n; i++) this.batch.push(await createTask(this, script));
});

Then("all {int} tasks complete on the other node", { timeout: 180_000 }, async function (this: FaultWorld, n: number) {
  expect(this.batch.length).toBe(n);
  const other = this.nodes.find((node) => node !== this.killedNode)!;
  await until(
    async () => {
      for (const id of this.batch) if (!TERMINAL.includes((await taskResult(this, id)).status)) return false;
      return true;
    },
    "every task of the batch ended",
    { timeoutMs: 170_000, intervalMs: 250 },
  );
  for (const id of this.batch) {
    const result = await taskResult(this, id);
    expect(`${id} ${result.status} ${result.jobs[0]?.result ?? ""}`).toStartWith(`${id} completed`);
  }
  const ran = other.process.logLines("job finished").map((l) => l.task_id);
  for (const id of this.batch) expect(ran).toContain(id);
});

Then("the lost task ends within {int} seconds of the kill", async function (this: FaultWorld, seconds: number) {
  // Polled until the bound, then judged: the bound is the requirement, not a guess at the machine's speed.
  const deadline = this.killedAt + seconds * 1000;
  let result = await taskResult(this, this.taskId!);
  while (!TERMINAL.includes(result.status) && Date.now() < deadline) {
    await Bun.sleep(250);
    result = await taskResult(this, this.taskId!);
  }
  expect(TERMINAL).toContain(result.status);
  const job = JSON.parse(result.jobs[0]!.result!);
  // Run again on the live node (it times out there: the script outlives the short job timeout) or failed clearly.
  if (job.error) expect(job.error).toContain("no live node took the job");
  else expect(job).toMatchObject({ status: "timeout", stdout: "started\n" });
});

Then(
  "the lost task's sandbox on the killed node stops by its own deadline",
  { timeout: 120_000 },
  async function (this: FaultWorld) {
    // Its deadline counts from its start (before it was first seen); allow for podman's own latency on top.
    const deadline = this.sandbox!.seenAt + (this.jobTimeoutSeconds + 2) * 1000 + 15_000;
    let left = await taskSandboxNodes(this.taskId!);
    while (left.includes(this.killedNode!.slug) && Date.now() < deadline) {
      await Bun.sleep(250);
      left = await taskSandboxNodes(this.taskId!);
    }
    expect(left).not.toContain(this.killedNode!.slug);
  },
);

When(
  "the orchestrator is killed with SIGKILL and started again on its state dir",
  { timeout: 120_000 },
  async function (this: FaultWorld) {
    const killed = this.orchestrator!;
    process.kill(killed.process.pid, "SIGKILL");
    await killed.process.exited;
    this.killedAt = Date.now();
    const again: OrchestratorProcess = await startOrchestrator(killed.env, {
      stateDir: killed.stateDir,
      controlPlanePort: killed.controlPlanePort,
    });
    this.orchestrator = again;
  },
);

Then(
  "the task completes within {int} seconds of the kill with stdout {string}",
  { timeout: 60_000 },
  async function (this: FaultWorld, seconds: number, stdout: string) {
    const deadline = this.killedAt + seconds * 1000;
    let result = await taskResult(this, this.taskId!);
    while (!TERMINAL.includes(result.status) && Date.now() < deadline) {
      await Bun.sleep(250);
      result = await taskResult(this, this.taskId!);
    }
    expect(result.status).toBe("completed");
    expect(JSON.parse(result.jobs[0]!.result!).stdout).toBe(stdout.replaceAll("\\n", "\n"));
  },
);

Then("the task's job ran once, on the node where it started before the crash", function (this: FaultWorld) {
  const runs = this.nodes.flatMap((n) =>
    n.process
      .logLines("job finished")
      .filter((l) => l.task_id === this.taskId)
      .map(() => n.slug),
  );
  expect(runs).toEqual([this.sandbox!.node]);
  // The restarted orchestrator asked the node again and was attached to the run (or given its kept result).
  const node = this.nodes.find((n) => n.slug === this.sandbox!.node)!;
  const again = [...node.process.logLines("job run attached"), ...node.process.logLines("job result returned again")];
  expect(again.length).toBeGreaterThan(0);
});
