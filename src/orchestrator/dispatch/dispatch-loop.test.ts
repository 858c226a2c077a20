import { afterEach, beforeEach, describe, expect, it } from "bun:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { memoryLogger } from "../../lib/log";
import { createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { createSecretBox, keyFromPassphrase } from "../auth/secret-box";
import { createTokens } from "../auth/tokens";
import { createControlPlane } from "../control-plane/app";
import { connect } from "../db/connect";
import { createOrchestratorMetrics } from "../metrics";
import { createJobCanceller } from "./cancel-jobs";
import { createDispatcher, startDispatcher, type Dispatcher, type DispatcherDeps } from "./dispatch-loop";
import { fakeRunAnswer, startFakeWorker, type FakeWorker } from "../../testing/fake-worker";
import { insertTaskWithJob } from "../../testing/queued-job";
import { readyNode, TEST_PSK } from "../../testing/ready-node";

const secrets = createSecretBox(keyFromPassphrase("dispatch-test"));
const tokens = createTokens({
  secret: "dispatch-test-secret-0123456789abcdef",
  ttl: { accessMs: 900_000, refreshMs: 86_400_000, nodeMs: 86_400_000 },
});
const clock = { now: new Date("2026-03-01T10:00:00Z") };

let t: TestDatabase;
let log: ReturnType<typeof memoryLogger>;
let cp: ReturnType<typeof createControlPlane>;
const workers: FakeWorker[] = [];

const worker = (opts?: { hold?: boolean }) => {
  const w = startFakeWorker(opts);
  workers.push(w);
  return w;
};
const dispatcher = (extra: Partial<DispatcherDeps> = {}) =>
  createDispatcher({ db: t.db, secrets, log, now: () => clock.now, retryDelayMs: 0, ...extra });

/** Ticks and waits for the started jobs until a pass starts nothing. */
async function runToIdle(d: Dispatcher): Promise<void> {
  for (;;) {
    const started = await d.tick();
    await d.drain();
    if (!started) return;
  }
}

const jobRow = (id: string) => t.db.selectFrom("jobs").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
const taskRow = (id: string) => t.db.selectFrom("tasks").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
const dispatchLines = () => log.lines.filter((l) => l.msg === "dispatch");
const nodeRow = (slug: string) =>
  t.db.selectFrom("nodes").selectAll().where("node_slug", "=", slug).executeTakeFirstOrThrow();
const nodeId = async (slug: string) => (await nodeRow(slug)).id;
const markSuspect = (slug: string) =>
  t.db.updateTable("nodes").set({ suspect_since: clock.now }).where("node_slug", "=", slug).execute();

beforeEach(async () => {
  clock.now = new Date("2026-03-01T10:00:00Z");
  t = await createTestDatabase();
  log = memoryLogger("dispatch-test");
  cp = createControlPlane({
    db: t.db,
    tokens,
    secrets,
    log,
    registrationPsk: TEST_PSK,
    publicUrl: "http://orch.test:12082",
  });
});
afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop();
  await t.drop();
});

describe("dispatcher", () => {
  it("runs many jobs across two nodes without exceeding either node's max_concurrency", async () => {
    const a = worker({ hold: true });
    const b = worker({ hold: true });
    await readyNode(cp, "node-a", a, 2);
    await readyNode(cp, "node-b", b, 3);
    const jobs = await Promise.all(Array.from({ length: 12 }, () => insertTaskWithJob(t.db)));
    const d = dispatcher();

    expect(await d.tick()).toBe(5);
    await Promise.all([a.waitForRuns(2), b.waitForRuns(3)]);
    expect(await d.tick()).toBe(0);
    const running = await t.db.selectFrom("jobs").select("task_id").where("status", "=", "running").execute();
    expect(running.length).toBe(5);
    expect((await taskRow(running[0]!.task_id)).status).toBe("running");

    a.release();
    b.release();
    await d.drain();
    await runToIdle(d);
    expect([a.peak, b.peak]).toEqual([2, 3]);
    expect(a.runs.length + b.runs.length).toBe(12);
    for (const { taskId, jobId } of jobs) {
      const job = await jobRow(jobId);
      expect(job.status).toBe("completed");
      expect(JSON.parse(job.result as string).stdout).toBe(`ran ${jobId}`);
      expect(await taskRow(taskId)).toMatchObject({ status: "completed", closed: true });
    }
    const line = dispatchLines()[0]!;
    expect(Object.keys(line)).toEqual(
      expect.arrayContaining(["task_id", "job_id", "node_slug", "status", "duration_ms"]),
    );
    expect(dispatchLines().length).toBe(12);
    expect(JSON.stringify(log.lines)).not.toContain(a.token);
  });

  it("is seen in the metrics: queue depth and statuses at scrape time, each claim's dispatch latency", async () => {
    const metrics = createOrchestratorMetrics(t.db);
    const read = async () => {
      const families = parsePrometheusTextFormat(await metrics.registry.metrics());
      return (name: string, labels: Record<string, string> = {}, field: "value" | "count" = "value") =>
        families
          .find((f) => f.name === name)
          ?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.[field];
    };
    const a = worker();
    await readyNode(cp, "node-a", a, 2);
    await Promise.all([insertTaskWithJob(t.db), insertTaskWithJob(t.db)]);
    const before = await read();
    expect([before("cynode_queue_depth"), before("cynode_jobs", { status: "queued" })]).toEqual(["2", "2"]);
    expect(before("cynode_nodes", { status: "active" })).toBe("1");
    expect(before("cynode_dispatch_latency_seconds", {}, "count")).toBe("0");
    await runToIdle(dispatcher({ metrics }));
    const after = await read();
    expect([after("cynode_queue_depth"), after("cynode_jobs", { status: "completed" })]).toEqual(["0", "2"]);
    expect(after("cynode_tasks", { status: "completed" })).toBe("2");
    expect(after("cynode_dispatch_latency_seconds", {}, "count")).toBe("2");
    expect(after("cynode_node_last_seen_timestamp_seconds", { node_slug: "node-a" })).toBeDefined();
  });

  it("prefers the least-loaded node", async () => {
    const a = worker({ hold: true });
    const b = worker({ hold: true });
    await readyNode(cp, "node-a", a, 4);
    await readyNode(cp, "node-b", b, 4);
    await Promise.all(Array.from({ length: 4 }, () => insertTaskWithJob(t.db)));
    const d = dispatcher();
    expect(await d.tick()).toBe(4);
    await Promise.all([a.waitForRuns(2), b.waitForRuns(2)]);
    expect([a.runs.length, b.runs.length]).toEqual([2, 2]);
    a.release();
    b.release();
    await d.drain();
  });

  it("sends jobs that need a model only to nodes running inference, and plain jobs anywhere", async () => {
    const plainNode = worker();
    const modelNode = worker();
    await readyNode(cp, "node-plain", plainNode, 4);
    await readyNode(cp, "node-model", modelNode, 4, { inference: true });
    const prompts = await Promise.all(
      Array.from({ length: 3 }, () =>
        insertTaskWithJob(t.db, { image: "i", command: ["cynode-prompt"], use_inference: true }),
      ),
    );
    const plain = await Promise.all(Array.from({ length: 3 }, () => insertTaskWithJob(t.db)));
    await runToIdle(dispatcher());
    const ranOn = (w: FakeWorker) => w.runs.map((r) => r.job_id).sort();
    expect(ranOn(modelNode)).toEqual(expect.arrayContaining(prompts.map((p) => p.jobId)));
    expect(ranOn(plainNode).every((id) => plain.some((p) => p.jobId === id))).toBe(true);
    expect(plainNode.runs.length + modelNode.runs.length).toBe(6);
  });

  it("still dispatches a job that needs a model when no node runs inference, so it fails clearly instead of waiting", async () => {
    const plainNode = worker();
    await readyNode(cp, "node-plain", plainNode, 2);
    const job = await insertTaskWithJob(t.db, { image: "i", command: ["cynode-prompt"], use_inference: true });
    await runToIdle(dispatcher());
    expect(plainNode.runs.map((r) => r.job_id)).toEqual([job.jobId]);
  });

  it("never runs a job twice when two dispatchers share the database", async () => {
    const a = worker();
    const b = worker();
    await readyNode(cp, "node-a", a, 3);
    await readyNode(cp, "node-b", b, 3);
    const jobs = await Promise.all(Array.from({ length: 30 }, () => insertTaskWithJob(t.db)));
    const otherDb = connect(t.url);
    try {
      const d1 = dispatcher();
      const d2 = createDispatcher({ db: otherDb, secrets, log, now: () => clock.now, retryDelayMs: 0 });
      await Promise.all([runToIdle(d1), runToIdle(d2), runToIdle(d1), runToIdle(d2)]);
      await Promise.all([d1.drain(), d2.drain()]);
      await Promise.all([runToIdle(d1), runToIdle(d2)]);
    } finally {
      await otherDb.destroy();
    }
    const ran = [...a.runs, ...b.runs].map((r) => r.job_id).sort();
    expect(ran).toEqual(jobs.map((j) => j.jobId).sort());
    expect(a.peak).toBeLessThanOrEqual(3);
    expect(b.peak).toBeLessThanOrEqual(3);
  });

  it("marks a node whose worker dies mid-job suspect and runs the job on another node instead", async () => {
    const a = worker();
    const b = worker();
    a.answer = () => {
      void a.stop();
      return new Promise<Response>(() => {});
    };
    await readyNode(cp, "node-a", a, 2);
    await readyNode(cp, "node-b", b, 2);
    const { taskId, jobId } = await insertTaskWithJob(t.db);
    const d = dispatcher();

    expect(await d.tick()).toBe(1);
    await d.drain();
    expect(a.runs.length).toBe(1);
    expect(await jobRow(jobId)).toMatchObject({ status: "queued", node_id: null, lease_expirations: 1 });
    expect((await jobRow(jobId)).excluded_node_ids).toEqual([await nodeId("node-a")]);
    expect((await nodeRow("node-a")).suspect_since).not.toBeNull();
    expect((await taskRow(taskId)).status).toBe("running");

    // New work goes to the live node only; the lost job waits out its backoff, then runs there too.
    const fresh = await insertTaskWithJob(t.db);
    expect(await d.tick()).toBe(1);
    await d.drain();
    expect(b.runs.map((r) => r.job_id)).toEqual([fresh.jobId]);
    clock.now = new Date(clock.now.getTime() + 1_000);
    await runToIdle(d);
    expect(b.runs.map((r) => r.job_id)).toEqual([fresh.jobId, jobId]);
    expect(await taskRow(taskId)).toMatchObject({ status: "completed", closed: true });
    expect(dispatchLines().map((l) => l.status)).toEqual(["requeued", "completed", "completed"]);
  });

  it("fails a lost job with a clear reason when no live node takes it within the bound", async () => {
    const w = worker();
    await readyNode(cp, "node-a", w, 1);
    await w.stop();
    const { taskId, jobId } = await insertTaskWithJob(t.db);
    const d = dispatcher({ lostJobBoundMs: 20_000 });
    expect(await d.tick()).toBe(1);
    await d.drain();
    expect((await jobRow(jobId)).status).toBe("queued");
    clock.now = new Date(clock.now.getTime() + 10_000);
    expect(await d.tick()).toBe(0);
    expect((await jobRow(jobId)).status).toBe("queued");
    clock.now = new Date(clock.now.getTime() + 11_000);
    expect(await d.tick()).toBe(0);
    const job = await jobRow(jobId);
    expect(job.status).toBe("failed");
    expect(JSON.parse(job.result as string).error).toContain("no live node took the job within 20s");
    expect(await taskRow(taskId)).toMatchObject({ status: "failed", closed: true });
  });

  it("counts a worker that never answers within the HTTP timeout as lost", async () => {
    const w = worker({ hold: true });
    await readyNode(cp, "node-a", w, 1);
    const { jobId } = await insertTaskWithJob(t.db);
    const d = dispatcher({ maxHttpTimeoutMs: 100 });
    expect(await d.tick()).toBe(1);
    await d.drain();
    expect(await jobRow(jobId)).toMatchObject({ status: "queued", lease_expirations: 1 });
    expect(String(dispatchLines()[0]?.error)).toContain("TimeoutError");
    w.release();
  });

  it("gives a suspect node work again once it answers a probe", async () => {
    const w = worker({ hold: true });
    await readyNode(cp, "node-a", w, 1);
    const lost = await insertTaskWithJob(t.db);
    const d = dispatcher({ maxHttpTimeoutMs: 100 });
    expect(await d.tick()).toBe(1);
    await d.drain();
    expect((await nodeRow("node-a")).suspect_since).not.toBeNull();
    w.release();
    clock.now = new Date(clock.now.getTime() + 1_000);
    expect(await d.tick()).toBe(0); // suspect: probed, not dispatched to
    await d.drain();
    expect((await nodeRow("node-a")).suspect_since).toBeNull();
    expect(log.lines.some((l) => l.msg === "suspect node answers again")).toBe(true);
    const fresh = await insertTaskWithJob(t.db);
    await runToIdle(dispatcher());
    expect(w.runs.map((r) => r.job_id)).toEqual([lost.jobId, fresh.jobId]);
  });

  it("drops its call to a node whose capability reports stopped and requeues the job", async () => {
    const w = worker({ hold: true });
    await readyNode(cp, "node-a", w, 1);
    const { jobId } = await insertTaskWithJob(t.db);
    const d = dispatcher({ nodeStaleMs: 180_000 });
    expect(await d.tick()).toBe(1);
    await w.waitForRuns(1);
    await t.db
      .updateTable("nodes")
      .set({ last_capability_at: new Date(clock.now.getTime() - 181_000) })
      .execute();
    expect(await d.tick()).toBe(0);
    await d.drain();
    expect(await jobRow(jobId)).toMatchObject({ status: "queued", node_id: null });
    expect(dispatchLines()[0]).toMatchObject({ status: "requeued", error: "node lost: capability reports stopped" });
    w.release();
  });

  it("re-attaches to a job whose holder is gone on its live node instead of running it elsewhere", async () => {
    const a = worker({ hold: true });
    const b = worker();
    await readyNode(cp, "node-a", a, 1);
    const { taskId, jobId } = await insertTaskWithJob(t.db);
    const crashed = dispatcher({ leaseMs: 8_000 });
    expect(await crashed.tick()).toBe(1);
    await a.waitForRuns(1);
    await readyNode(cp, "node-b", b, 1);

    // The holder goes away without finishing; once its lease runs out another dispatcher attaches on the same node.
    await crashed.stop();
    clock.now = new Date(clock.now.getTime() + 9_000);
    const survivor = dispatcher({ leaseMs: 8_000 });
    expect(await survivor.tick()).toBe(0);
    await a.waitForRuns(2);
    a.release();
    await survivor.drain();
    expect(a.runs.map((r) => r.job_id)).toEqual([jobId, jobId]);
    expect(b.runs.length).toBe(0);
    expect(log.lines.filter((l) => l.msg === "job lease expired: re-attaching on its live node").length).toBe(1);
    expect(dispatchLines().map((l) => l.status)).toEqual(["abandoned", "completed"]);
    expect(await taskRow(taskId)).toMatchObject({ status: "completed", closed: true });
  });

  it("requeues a job whose holder is gone when its node is gone too", async () => {
    const a = worker({ hold: true });
    const b = worker();
    await readyNode(cp, "node-a", a, 1);
    const { jobId } = await insertTaskWithJob(t.db);
    const crashed = dispatcher();
    expect(await crashed.tick()).toBe(1);
    await a.waitForRuns(1);
    await crashed.stop();
    await a.stop();
    await markSuspect("node-a");
    await readyNode(cp, "node-b", b, 1);
    clock.now = new Date(clock.now.getTime() + 9_000);
    const survivor = dispatcher();
    expect(await survivor.tick()).toBe(0);
    expect(await jobRow(jobId)).toMatchObject({ status: "queued", node_id: null });
    expect(log.lines.filter((l) => l.msg === "job lease expired on a lost node: requeued").length).toBe(1);
    clock.now = new Date(clock.now.getTime() + 1_000);
    await runToIdle(survivor);
    expect(b.runs.map((r) => r.job_id)).toEqual([jobId]);
    expect((await jobRow(jobId)).status).toBe("completed");
  });

  it("renews the leases it holds so a long job is not reaped", async () => {
    const w = worker({ hold: true });
    await readyNode(cp, "node-a", w, 1);
    const { jobId } = await insertTaskWithJob(t.db);
    const d = dispatcher({ leaseMs: 30_000 });
    expect(await d.tick()).toBe(1);
    await w.waitForRuns(1);
    for (let i = 0; i < 4; i++) {
      clock.now = new Date(clock.now.getTime() + 20_000);
      await d.tick();
    }
    expect((await jobRow(jobId)).status).toBe("running");
    w.release();
    await d.drain();
    expect((await jobRow(jobId)).status).toBe("completed");
    clock.now = new Date("2026-03-01T10:00:00Z");
  });

  it("fails a job the worker rejects or answers with a failure, and one whose payload is invalid, without retrying", async () => {
    const w = worker();
    await readyNode(cp, "node-a", w, 4);
    w.answer = (req) =>
      req.sandbox.command[0] === "boom"
        ? new Response("nope", { status: 500 })
        : Response.json(fakeRunAnswer(req, "failed"));
    const rejected = await insertTaskWithJob(t.db, { command: ["boom"] });
    const failed = await insertTaskWithJob(t.db, { command: ["false"] });
    const invalid = await insertTaskWithJob(t.db, { command: [] });
    const garbled = await insertTaskWithJob(t.db);
    await t.db.updateTable("jobs").set({ payload: "{not json" }).where("id", "=", garbled.jobId).execute();
    await runToIdle(dispatcher());
    expect(JSON.parse((await jobRow(rejected.jobId)).result as string).error).toBe("worker answered 500: nope");
    expect(JSON.parse((await jobRow(failed.jobId)).result as string)).toMatchObject({ status: "failed", exit_code: 1 });
    expect(JSON.parse((await jobRow(invalid.jobId)).result as string).error).toContain("invalid job payload");
    expect(JSON.parse((await jobRow(garbled.jobId)).result as string).error).toContain("invalid job payload");
    for (const j of [rejected, failed, invalid, garbled]) expect((await taskRow(j.taskId)).status).toBe("failed");
    expect(w.runs.length).toBe(2);
  });

  it("keeps a canceled job canceled when the worker answers late, and the cancel reaches the worker", async () => {
    const w = worker({ hold: true });
    await readyNode(cp, "node-a", w, 1);
    const { taskId, jobId } = await insertTaskWithJob(t.db);
    const d = dispatcher();
    await d.tick();
    await w.waitForRuns(1);

    // What the gateway's cancel does: mark task and jobs canceled, then tell the node.
    await t.db.updateTable("tasks").set({ status: "canceled", closed: true }).where("id", "=", taskId).execute();
    const canceled = await t.db
      .updateTable("jobs")
      .set({ status: "canceled" })
      .where("id", "=", jobId)
      .returning(["id", "node_id"])
      .execute();
    await createJobCanceller({ db: t.db, secrets, log })(canceled.map((j) => ({ id: j.id, node_id: j.node_id! })));
    expect(w.cancels).toEqual([jobId]);

    w.release();
    await d.drain();
    expect((await jobRow(jobId)).status).toBe("canceled");
    expect((await taskRow(taskId)).status).toBe("canceled");
    expect(dispatchLines().map((l) => l.status)).toEqual(["discarded"]);
  });

  it("skips queued jobs of closed tasks and nodes whose config ack is stale", async () => {
    const w = worker();
    await readyNode(cp, "node-a", w, 2);
    const closed = await insertTaskWithJob(t.db);
    await t.db.updateTable("tasks").set({ status: "canceled", closed: true }).where("id", "=", closed.taskId).execute();
    expect(await dispatcher().tick()).toBe(0);

    await t.db.updateTable("nodes").set({ config_version: "01ZZZZZZZZZZZZZZZZZZZZZZZZ" }).execute();
    await insertTaskWithJob(t.db);
    expect(await dispatcher().tick()).toBe(0);
  });

  it("leaves a job to its lease when the pass cannot talk to the node (token sealed with another key)", async () => {
    const w = worker();
    await readyNode(cp, "node-a", w, 1);
    const { jobId } = await insertTaskWithJob(t.db);
    const d = dispatcher({ secrets: createSecretBox(keyFromPassphrase("another key")) });
    expect(await d.tick()).toBe(1);
    await d.drain();
    expect(dispatchLines().map((l) => l.status)).toEqual(["error"]);
    expect((await jobRow(jobId)).status).toBe("running");
    expect(w.runs.length).toBe(0);
  });

  it("runs as a loop until stopped, abandoning in-flight calls to the lease", async () => {
    const w = worker({ hold: true });
    await readyNode(cp, "node-a", w, 1);
    const { jobId } = await insertTaskWithJob(t.db);
    const d = startDispatcher({ db: t.db, secrets, log, now: () => clock.now, pollIntervalMs: 5 });
    d.start();
    await w.waitForRuns(1);
    await d.stop();
    expect(dispatchLines().map((l) => l.status)).toEqual(["abandoned"]);
    expect((await jobRow(jobId)).status).toBe("running");
  });

  it("dispatches a job queued while it idles as soon as it is woken, not at the next poll", async () => {
    const w = worker();
    await readyNode(cp, "node-a", w, 1);
    const d = startDispatcher({ db: t.db, secrets, log, now: () => clock.now, pollIntervalMs: 3_600_000 });
    await insertTaskWithJob(t.db);
    d.wake(); // the first pass may have run before the insert; the next one only comes when woken
    await w.waitForRuns(1);
    await d.drain();
    await d.stop();
    expect(dispatchLines().map((l) => l.status)).toEqual(["completed"]);
  });
});

describe("createJobCanceller", () => {
  it("logs instead of throwing when a node cannot be reached or has no endpoint", async () => {
    const w = worker();
    await readyNode(cp, "node-a", w, 1);
    const node = await t.db.selectFrom("nodes").select("id").executeTakeFirstOrThrow();
    await w.stop();
    const cancel = createJobCanceller({ db: t.db, secrets, log, timeoutMs: 1000 });
    await cancel([
      { id: "j1", node_id: node.id },
      { id: "j2", node_id: crypto.randomUUID() },
    ]);
    await cancel([]);
    expect(log.lines.filter((l) => String(l.msg).startsWith("job cancel")).map((l) => [l.msg, l.ok])).toEqual([
      ["job cancel not sent: node has no worker endpoint", undefined],
      ["job cancel sent to node", false],
    ]);
    await createJobCanceller({
      db: {
        selectFrom: () => {
          throw new Error("db down");
        },
      } as never,
      secrets,
      log,
    })([{ id: "j3", node_id: node.id }]);
    expect(log.lines.at(-1)?.msg).toBe("job cancel failed");
  });
});
