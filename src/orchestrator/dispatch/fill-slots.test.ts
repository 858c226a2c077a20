import { describe, expect, it } from "bun:test";
import { insertTaskWithJob } from "../../testing/queued-job";
import { runToIdle, secrets, useDispatchFixture } from "../../testing/dispatch-fixture";
import type { FakeWorker } from "../../testing/fake-worker";
import { connect } from "../db/connect";
import { createDispatcher } from "./dispatch-loop";
import type { NodeCapabilityReport } from "../../contracts/node-payloads";
import type { Node } from "../db/schema";
import { leastLoaded, toSlot, type Slot } from "./fill-slots";
import { createUserWithPassword } from "../db/users";

const f = useDispatchFixture();

describe("filling free slots, least-loaded node first", () => {
  it("runs many jobs across two nodes without exceeding either node's max_concurrency", async () => {
    const a = await f.node("node-a", 2, { hold: true });
    const b = await f.node("node-b", 3, { hold: true });
    const jobs = await Promise.all(Array.from({ length: 12 }, () => insertTaskWithJob(f.t.db)));
    const d = f.dispatcher();

    expect(await d.tick()).toBe(5);
    await Promise.all([a.waitForRuns(2), b.waitForRuns(3)]);
    expect(await d.tick()).toBe(0);
    const running = await f.t.db.selectFrom("jobs").select("task_id").where("status", "=", "running").execute();
    expect(running.length).toBe(5);
    expect((await f.taskRow(running[0]!.task_id)).status).toBe("running");

    a.release();
    b.release();
    await d.drain();
    await runToIdle(d);
    expect([a.peak, b.peak]).toEqual([2, 3]);
    expect(a.runs.length + b.runs.length).toBe(12);
    for (const { taskId, jobId } of jobs) {
      const job = await f.jobRow(jobId);
      expect(job.status).toBe("completed");
      expect(JSON.parse(job.result as string).stdout).toBe(`ran ${jobId}`);
      expect(await f.taskRow(taskId)).toMatchObject({ status: "completed", closed: true });
    }
    const line = f.logged("dispatch")[0]!;
    expect(Object.keys(line)).toEqual(
      expect.arrayContaining(["task_id", "job_id", "node_slug", "status", "duration_ms"]),
    );
    expect(f.dispatched().length).toBe(12);
    expect(JSON.stringify(f.log.lines)).not.toContain(a.token);
  });

  it("prefers the least-loaded node", async () => {
    const a = await f.node("node-a", 4, { hold: true });
    const b = await f.node("node-b", 4, { hold: true });
    await Promise.all(Array.from({ length: 4 }, () => insertTaskWithJob(f.t.db)));
    const d = f.dispatcher();
    expect(await d.tick()).toBe(4);
    await Promise.all([a.waitForRuns(2), b.waitForRuns(2)]);
    expect([a.runs.length, b.runs.length]).toEqual([2, 2]);
    a.release();
    b.release();
    await d.drain();
  });
});

describe("filling slots with jobs that need a model", () => {
  it("sends jobs that need a model only to nodes running inference, and plain jobs anywhere", async () => {
    const plainNode = await f.node("node-plain", 4);
    const modelNode = await f.node("node-model", 4, { inference: true });
    const prompts = await Promise.all(
      Array.from({ length: 3 }, () =>
        insertTaskWithJob(f.t.db, { image: "i", command: ["cynode-prompt"], use_inference: true }),
      ),
    );
    const plain = await Promise.all(Array.from({ length: 3 }, () => insertTaskWithJob(f.t.db)));
    await runToIdle(f.dispatcher());
    const ranOn = (w: FakeWorker) => w.runs.map((r) => r.job_id).sort();
    expect(ranOn(modelNode)).toEqual(expect.arrayContaining(prompts.map((p) => p.jobId)));
    expect(ranOn(plainNode).every((id) => plain.some((p) => p.jobId === id))).toBe(true);
    expect(plainNode.runs.length + modelNode.runs.length).toBe(6);
  });

  it("still dispatches a job that needs a model when no node runs inference, so it fails clearly instead of waiting", async () => {
    const plainNode = await f.node("node-plain", 2);
    const job = await insertTaskWithJob(f.t.db, { image: "i", command: ["cynode-prompt"], use_inference: true });
    await runToIdle(f.dispatcher());
    expect(plainNode.runs.map((r) => r.job_id)).toEqual([job.jobId]);
  });
});

describe("claiming from the shared queue", () => {
  it("never runs a job twice when two dispatchers share the database", async () => {
    const a = await f.node("node-a", 3);
    const b = await f.node("node-b", 3);
    const jobs = await Promise.all(Array.from({ length: 30 }, () => insertTaskWithJob(f.t.db)));
    const otherDb = connect(f.t.url);
    try {
      const d1 = f.dispatcher();
      const d2 = createDispatcher({ db: otherDb, secrets, log: f.log, now: () => f.clock.now });
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

  it("skips queued jobs of closed tasks and nodes whose config ack is stale", async () => {
    await f.node("node-a", 2);
    const closed = await insertTaskWithJob(f.t.db);
    await f.t.db
      .updateTable("tasks")
      .set({ status: "canceled", closed: true })
      .where("id", "=", closed.taskId)
      .execute();
    expect(await f.dispatcher().tick()).toBe(0);

    await f.t.db.updateTable("nodes").set({ config_version: "01ZZZZZZZZZZZZZZZZZZZZZZZZ" }).execute();
    await insertTaskWithJob(f.t.db);
    expect(await f.dispatcher().tick()).toBe(0);
  });
});

describe("users take turns on a node", () => {
  it("runs B's new task right after the job of A's 40 that was running on a one-slot node", async () => {
    const w = await f.node("node-a", 1, { hold: true });
    const [a, b] = await Promise.all(
      ["a", "b"].map(async (handle) => (await createUserWithPassword(f.t.db, { handle, passwordHash: "x" })).id),
    );
    const aJobs: string[] = [];
    for (let i = 0; i < 40; i++) aJobs.push((await insertTaskWithJob(f.t.db, undefined, a)).jobId);
    const d = f.dispatcher();
    expect(await d.tick()).toBe(1);
    await w.waitForRuns(1);
    const bJob = (await insertTaskWithJob(f.t.db, undefined, b)).jobId;
    w.release();
    await d.drain();
    await runToIdle(d);
    const order = w.runs.map((r) => r.job_id);
    expect(order.length).toBe(41);
    expect(order.indexOf(bJob)).toBe(1);
    expect(order.filter((id) => id !== bJob)).toEqual(aJobs);
  });
});

const node = { id: "n1", node_slug: "node-1", suspect_since: null, worker_api_target_url: "http://n1:12090" } as Node;
const report = (r: Partial<NodeCapabilityReport>) => r as NodeCapabilityReport;
const slot = (id: string, running: number, max: number): Slot => ({ ...toSlot(node, undefined, running, max), id });

describe("toSlot", () => {
  it("takes the node's max_concurrency, else the default, and none when it cannot run sandboxes", () => {
    expect(toSlot(node, undefined, 1, 4)).toMatchObject({ id: "n1", slug: "node-1", max: 4, running: 1 });
    expect(toSlot(node, report({ sandbox: { supported: true, max_concurrency: 2 } }), 0, 4).max).toBe(2);
    expect(toSlot(node, report({ sandbox: { supported: false, max_concurrency: 2 } }), 0, 4).max).toBe(0);
  });

  it("runs jobs that need a model only when the report says inference is running", () => {
    expect(toSlot(node, report({ inference: { running: true } }), 0, 4).inference).toBe(true);
    expect(toSlot(node, report({ inference: { supported: true } }), 0, 4).inference).toBe(false);
  });
});

describe("leastLoaded", () => {
  it("picks the smallest share of capacity in use, then the fewest jobs, then the first", () => {
    expect(leastLoaded([slot("a", 1, 2), slot("b", 1, 4)]).id).toBe("b");
    expect(leastLoaded([slot("a", 2, 4), slot("b", 1, 2)]).id).toBe("b");
    expect(leastLoaded([slot("a", 0, 2), slot("b", 0, 4)]).id).toBe("a");
  });
});
