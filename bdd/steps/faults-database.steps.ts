/**
 * Database faults with real processes: the embedded Postgres killed (`kill -9` of its postmaster), an external
 * Postgres (testcontainers) stopped and started, and a cluster of orchestrators on one database. Bounds ("within
 * 10 s") are waits that fail the step when exceeded; the measured figures are printed, never asserted.
 */
import { Given, Then, When } from "@cucumber/cucumber";
import { expect } from "bun:test";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROBLEM_CONTENT_TYPE } from "../../src/contracts/problem";
import { processAlive } from "../../src/lib/process-alive";
import { command, startProcess } from "../support/managed-process";
import { BOOTSTRAP_PASSWORD, type OrchestratorProcess, startOrchestrator } from "../support/orchestrator-process";
import { containerCommand, type PostgresContainer, startPostgresContainer } from "../support/postgres-container";
import { startNodeWithInference } from "../support/system";
import type { WorkerNode } from "../support/worker-node-process";
import type { CyWorld } from "../support/world";
import { eventually } from "../../src/testing/until";

/** How long any request may take while the database is down. */
const ANSWER_BOUND_MS = 10_000;

type Answer = { what: string; status: number; ms: number; problem: boolean };
type FaultWorld = CyWorld & {
  answers: Answer[];
  outageEndedAt?: number;
  postgres?: PostgresContainer;
  cluster?: OrchestratorProcess[];
  clusterEnv?: Record<string, string>;
  clusterTasks?: string[];
  nodes?: WorkerNode[];
  refused?: { code: number; output: string };
};

const figure = (name: string, value: string) => console.log(`    figure: ${name}: ${value}`);

/** One request bounded by ANSWER_BOUND_MS; a request that does not answer in time is status 0. */
async function timed(w: CyWorld, what: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const started = performance.now();
  try {
    const res = await fetch(w.orchestrator!.gatewayUrl + path, {
      method,
      headers: { authorization: `Bearer ${w.tokens!.access_token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(ANSWER_BOUND_MS),
    });
    await res.arrayBuffer();
    const problem = res.headers.get("content-type") === PROBLEM_CONTENT_TYPE;
    return { what, status: res.status, ms: performance.now() - started, problem };
  } catch {
    return { what, status: 0, ms: performance.now() - started, problem: false };
  }
}

/** The API calls and the readiness probe of one round during an outage. */
async function probeRound(w: FaultWorld): Promise<void> {
  w.answers.push(await timed(w, "GET /v1/tasks", "GET", "/v1/tasks"));
  w.answers.push(await timed(w, "POST /v1/tasks", "POST", "/v1/tasks", { prompt: "true", input_mode: "commands" }));
  w.answers.push(await timed(w, "GET /readyz", "GET", "/readyz"));
}

async function login(w: CyWorld): Promise<void> {
  await w.call("POST", "/v1/auth/login", { handle: "admin", password: BOOTSTRAP_PASSWORD }, { token: null });
  expect(`${w.response!.status} ${w.text}`).toStartWith("200");
  w.tokens = w.json;
}

/** Polls `check` until it gives a value; a request that fails while the database is down counts as none yet. */
const whileDown = <T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number) =>
  eventually(() => check().catch(() => undefined), what, { timeoutMs, intervalMs: 250 });

/** Creates a `commands` task (retrying while the database is still coming back) and waits until it ends. */
async function runTask(
  w: CyWorld,
  base: string,
  script: string,
  timeoutMs: number,
): Promise<{ id: string; status: string }> {
  const deadline = Date.now() + timeoutMs;
  const id = await whileDown(
    "a task is created",
    async () => {
      await w.call("POST", "/v1/tasks", { prompt: script, input_mode: "commands" }, { base });
      return w.response!.status === 201 ? (w.json.task_id as string) : undefined;
    },
    timeoutMs,
  );
  const status = await whileDown(
    `task ${id} ends`,
    async () => {
      await w.call("GET", `/v1/tasks/${id}`, undefined, { base });
      return ["completed", "failed", "canceled"].includes(w.json?.status) ? (w.json.status as string) : undefined;
    },
    Math.max(1, deadline - Date.now()),
  );
  return { id, status };
}

async function waitReady(base: string): Promise<void> {
  await whileDown(
    "/readyz answers 200",
    async () => ((await fetch(`${base}/readyz`)).status === 200 ? true : undefined),
    180_000,
  );
}

const postmasterPid = async (stateDir: string) =>
  Number((await readFile(join(stateDir, "postgres-data", "postmaster.pid"), "utf8").catch(() => "")).split("\n")[0]);

async function killPostmaster(stateDir: string): Promise<boolean> {
  const pid = await postmasterPid(stateDir);
  if (!pid || !processAlive(pid)) return false;
  process.kill(pid, "SIGKILL");
  return true;
}

async function orchestratorWithNode(w: FaultWorld, slug: string, env: Record<string, string>, embedded: boolean) {
  w.answers = [];
  const stateDir = await mkdtemp(join(tmpdir(), "cynode-bdd-faults-"));
  w.scenario.add("state dir", () => rm(stateDir, { recursive: true, force: true }));
  w.orchestrator = await startOrchestrator(env, { embedded, stateDir });
  w.scenario.add("orchestrator", () => w.orchestrator!.stop());
  const node = await startNodeWithInference(w.orchestrator, slug);
  w.scenario.add(`node ${slug}`, node.stop);
  w.workerNode = node;
  await waitReady(w.orchestrator.gatewayUrl);
  await login(w);
}

Given(
  "an orchestrator on its embedded Postgres with a worker node {string}",
  { timeout: 300_000 },
  async function (this: FaultWorld, slug: string) {
    await orchestratorWithNode(this, slug, {}, true);
  },
);

When(
  "its embedded Postgres is killed with SIGKILL and kept down for {int} seconds",
  { timeout: 120_000 },
  async function (this: FaultWorld, seconds: number) {
    const stateDir = this.orchestrator!.stateDir;
    expect(await killPostmaster(stateDir)).toBe(true);
    const until = Date.now() + seconds * 1000;
    // Every server the supervisor starts meanwhile is killed as soon as its pid file names it: a crash loop.
    const keepDown = (async () => {
      while (Date.now() < until) {
        await killPostmaster(stateDir);
        await Bun.sleep(20);
      }
    })();
    while (Date.now() < until) await probeRound(this);
    await keepDown;
    this.outageEndedAt = Date.now();
    const exited = await Promise.race([this.orchestrator!.process.exited, Bun.sleep(10).then(() => undefined)]);
    if (exited !== undefined)
      throw new Error(`the orchestrator exited (${exited}):\n${this.orchestrator!.process.output().slice(-4000)}`);
  },
);

Then(
  "every API call during the outage answered within 10 seconds with 503 problem+json, and \\/readyz with 503",
  function (this: FaultWorld) {
    const api = this.answers.filter((a) => a.what !== "GET /readyz");
    const ready = this.answers.filter((a) => a.what === "GET /readyz");
    figure(
      "answers during the outage",
      `${this.answers.length}, slowest ${Math.round(Math.max(...this.answers.map((a) => a.ms)))} ms`,
    );
    expect(this.answers.filter((a) => a.status === 0)).toEqual([]); // none hung past the bound
    // A server started between two kills may answer for an instant; a 500 or a bare error never.
    expect(api.filter((a) => !(a.status === 503 && a.problem) && !(a.status >= 200 && a.status < 300))).toEqual([]);
    expect(api.filter((a) => a.status === 503).length).toBeGreaterThan(0);
    expect(ready.filter((a) => a.status !== 503 && a.status !== 200)).toEqual([]);
    expect(ready.filter((a) => a.status === 503).length).toBeGreaterThan(0);
  },
);

Then(
  "a task created after the outage completes within {int} seconds",
  { timeout: 180_000 },
  async function (this: FaultWorld, seconds: number) {
    const { status } = await runTask(this, this.orchestrator!.gatewayUrl, "echo healed", seconds * 1000).catch(
      (err: Error) => {
        const tail = (p: { output(): string }) => p.output().split("\n").slice(-25).join("\n");
        throw new Error(
          `${err.message}\norchestrator:\n${tail(this.orchestrator!.process)}\nnode:\n${this.workerNode ? tail(this.workerNode.process) : "-"}`,
        );
      },
    );
    figure("heal (outage over → new task created and completed)", `${Date.now() - this.outageEndedAt!} ms`);
    expect(status).toBe("completed");
  },
);

When(
  "its embedded Postgres is killed with SIGKILL and the orchestrator is sent SIGTERM",
  async function (this: FaultWorld) {
    expect(await killPostmaster(this.orchestrator!.stateDir)).toBe(true);
    this.outageEndedAt = Date.now();
    process.kill(this.orchestrator!.process.pid, "SIGTERM");
  },
);

Then("the orchestrator exits with code 0 within 10 seconds", { timeout: 30_000 }, async function (this: FaultWorld) {
  const code = await this.orchestrator!.process.exitCodeWithin(10_000);
  figure("SIGTERM → exit", `${Date.now() - this.outageEndedAt!} ms (code ${code})`);
  expect(code).toBe(0);
});

Then(
  "an orchestrator restarted on the same state dir serves the tasks created before",
  { timeout: 180_000 },
  async function (this: FaultWorld) {
    const before = this.orchestrator!;
    this.orchestrator = await startOrchestrator(
      {},
      { embedded: true, stateDir: before.stateDir, controlPlanePort: before.controlPlanePort },
    );
    this.scenario.add("restarted orchestrator", () => this.orchestrator!.stop());
    await login(this);
    await this.call("GET", "/v1/tasks");
    expect(this.response!.status).toBe(200);
    expect(this.json.tasks.length).toBeGreaterThan(0);
    figure("restart on the same state dir", "serves");
  },
);

Given(
  "an orchestrator on a Postgres container started with testcontainers, with a worker node {string}",
  { timeout: 600_000 },
  async function (this: FaultWorld, slug: string) {
    this.postgres = await startPostgresContainer();
    this.scenario.add("postgres container", () => this.postgres!.stop());
    await orchestratorWithNode(this, slug, { DATABASE_URL: this.postgres.url }, false);
    const { status } = await runTask(this, this.orchestrator!.gatewayUrl, "echo before", 120_000);
    expect(status).toBe("completed");
  },
);

When("the Postgres container is stopped", { timeout: 60_000 }, async function (this: FaultWorld) {
  await containerCommand("stop", this.postgres!.id);
  for (let i = 0; i < 3; i++) await probeRound(this);
});

Then(
  "every API call while it was stopped answered within 10 seconds with 503 problem+json, and \\/readyz with 503",
  function (this: FaultWorld) {
    figure(
      "answers while stopped",
      `${this.answers.length}, slowest ${Math.round(Math.max(...this.answers.map((a) => a.ms)))} ms`,
    );
    expect(this.answers.filter((a) => !(a.status === 503 && (a.problem || a.what === "GET /readyz")))).toEqual([]);
  },
);

When("the Postgres container is started again", { timeout: 60_000 }, async function (this: FaultWorld) {
  await containerCommand("start", this.postgres!.id);
  this.outageEndedAt = Date.now();
});

Given(
  "two orchestrators on one Postgres set up as the README says, each with a worker node",
  { timeout: 600_000 },
  async function (this: FaultWorld) {
    const { createTestDatabase, stopTestPostgres } = await import("../../src/testing/test-db");
    const database = await createTestDatabase();
    // The embedded server test-db starts (without POSTGRES_TEST_DSN) would keep the suite's process alive.
    this.scenario.add("cluster database", async () => {
      await database.drop();
      await stopTestPostgres();
    });
    this.clusterEnv = {
      DATABASE_URL: database.url,
      JWT_SECRET: crypto.randomUUID(),
      ORCHESTRATOR_SECRET_KEY: crypto.randomUUID(),
    };
    this.cluster = [];
    this.nodes = [];
    for (const i of [1, 2]) {
      const o = await startOrchestrator(this.clusterEnv);
      this.scenario.add(`orchestrator ${i}`, o.stop);
      this.cluster.push(o);
      const node = await startNodeWithInference(o, `bdd-cluster-${i}`);
      this.scenario.add(`node ${i}`, node.stop);
      this.nodes.push(node);
    }
    for (const o of this.cluster) await waitReady(o.gatewayUrl);
    this.orchestrator = this.cluster[0];
    await login(this); // one login: the shared JWT_SECRET makes its token good on every gateway
  },
);

When("I create {int} tasks through each gateway", { timeout: 300_000 }, async function (this: FaultWorld, n: number) {
  const runs = this.cluster!.flatMap((o, g) =>
    Array.from({ length: n }, (_, i) => runTask(this, o.gatewayUrl, `echo gateway-${g}-task-${i}`, 240_000)),
  );
  const done = await Promise.all(runs);
  expect(done.map((d) => d.status)).toEqual(done.map(() => "completed"));
  this.clusterTasks = done.map((d) => d.id);
});

Then("each task ran exactly once on the nodes", function (this: FaultWorld) {
  const started = this.nodes!.flatMap((n) => n.process.logLines("job finished").map((l) => l.task_id));
  const counts = this.clusterTasks!.map((id) => started.filter((t) => t === id).length);
  expect(counts).toEqual(this.clusterTasks!.map(() => 1));
});

When(
  "a third orchestrator starts on that database without the shared ORCHESTRATOR_SECRET_KEY",
  { timeout: 120_000 },
  async function (this: FaultWorld) {
    const { ORCHESTRATOR_SECRET_KEY: _, ...env } = this.clusterEnv!;
    const stateDir = await mkdtemp(join(tmpdir(), "cynode-bdd-faults-"));
    this.scenario.add("third state dir", () => rm(stateDir, { recursive: true, force: true }));
    const third = startProcess("third orchestrator", [...command("orchestrator"), "--state-dir", stateDir], {
      env: { ...env, USER_GATEWAY_LISTEN_ADDR: "127.0.0.1:0", CONTROL_PLANE_LISTEN_ADDR: "127.0.0.1:0" },
    });
    this.scenario.add("third orchestrator", () => third.stop());
    this.refused = { code: await third.exitCodeWithin(90_000), output: third.output() };
  },
);

Then("it refuses to start, naming ORCHESTRATOR_SECRET_KEY", function (this: FaultWorld) {
  expect(this.refused!.code).not.toBe(0);
  expect(this.refused!.output).toContain("ORCHESTRATOR_SECRET_KEY does not open the secrets");
});
