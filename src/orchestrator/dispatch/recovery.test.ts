import { describe, expect, it } from "bun:test";
import { sql } from "kysely";
import { runToIdle, useDispatchFixture } from "../../testing/dispatch-fixture";
import { insertTaskWithJob } from "../../testing/queued-job";
import { readyNode } from "../../testing/ready-node";
import { answers } from "./recovery";

const f = useDispatchFixture();

describe("requeueing the jobs of lost nodes", () => {
  it("marks a node whose worker dies mid-job suspect and runs the job on another node instead", async () => {
    const a = f.worker();
    const b = f.worker();
    const { taskId, jobId } = await insertTaskWithJob(f.t.db);
    a.answer = async () => {
      // An agent job's steps on the lost node are not the next run's.
      await f.t.db.updateTable("jobs").set({ progress: sql`'["step 1"]'::jsonb` }).where("id", "=", jobId).execute();
      void a.stop();
      return new Promise<Response>(() => {});
    };
    await readyNode(f.cp, "node-a", a, 2);
    await readyNode(f.cp, "node-b", b, 2);
    const d = f.dispatcher();

    expect(await d.tick()).toBe(1);
    await d.drain();
    expect((await f.jobRow(jobId)).progress).toEqual([]);
    expect(a.runs.length).toBe(1);
    expect(await f.jobRow(jobId)).toMatchObject({ status: "queued", node_id: null, lease_expirations: 1 });
    expect((await f.jobRow(jobId)).excluded_node_ids).toEqual([(await f.nodeRow("node-a")).id]);
    expect((await f.nodeRow("node-a")).suspect_since).not.toBeNull();
    expect((await f.taskRow(taskId)).status).toBe("running");

    // New work goes to the live node only; the lost job waits out its backoff, then runs there too.
    const fresh = await insertTaskWithJob(f.t.db);
    expect(await d.tick()).toBe(1);
    await d.drain();
    expect(b.runs.map((r) => r.job_id)).toEqual([fresh.jobId]);
    f.advance(1_000);
    await runToIdle(d);
    expect(b.runs.map((r) => r.job_id)).toEqual([fresh.jobId, jobId]);
    expect(await f.taskRow(taskId)).toMatchObject({ status: "completed", closed: true });
    expect(f.dispatched()).toEqual(["requeued", "completed", "completed"]);
  });

  it("fails a lost job with a clear reason when no live node takes it within the bound", async () => {
    const w = await f.node("node-a", 1);
    await w.stop();
    const { taskId, jobId } = await insertTaskWithJob(f.t.db);
    const d = f.dispatcher({ lostJobBoundMs: 20_000 });
    expect(await d.tick()).toBe(1);
    await d.drain();
    expect((await f.jobRow(jobId)).status).toBe("queued");
    f.advance(10_000);
    expect(await d.tick()).toBe(0);
    expect((await f.jobRow(jobId)).status).toBe("queued");
    f.advance(11_000);
    expect(await d.tick()).toBe(0);
    const job = await f.jobRow(jobId);
    expect(job.status).toBe("failed");
    expect(JSON.parse(job.result as string).error).toContain("no live node took the job within 20s");
    expect(await f.taskRow(taskId)).toMatchObject({ status: "failed", closed: true });
  });

  it("drops its call to a node whose capability reports stopped and requeues the job", async () => {
    const { w, d, jobId } = await f.heldJob({ nodeStaleMs: 180_000 });
    await w.waitForRuns(1);
    await f.t.db
      .updateTable("nodes")
      .set({ last_capability_at: new Date(f.clock.now.getTime() - 181_000) })
      .execute();
    expect(await d.tick()).toBe(0);
    await d.drain();
    expect(await f.jobRow(jobId)).toMatchObject({ status: "queued", node_id: null });
    expect(f.logged("dispatch")[0]).toMatchObject({
      status: "requeued",
      error: "node lost: capability reports stopped",
    });
    w.release();
  });
});

describe("taking over from a holder that is gone", () => {
  it("re-attaches to a job whose holder is gone on its live node instead of running it elsewhere", async () => {
    const a = f.worker({ hold: true });
    const b = f.worker();
    await readyNode(f.cp, "node-a", a, 1);
    const { taskId, jobId } = await insertTaskWithJob(f.t.db);
    const crashed = f.dispatcher({ leaseMs: 8_000 });
    expect(await crashed.tick()).toBe(1);
    await a.waitForRuns(1);
    await readyNode(f.cp, "node-b", b, 1);

    // The holder goes away without finishing; once its lease runs out another dispatcher attaches on the same node.
    await crashed.stop();
    f.advance(9_000);
    const survivor = f.dispatcher({ leaseMs: 8_000 });
    expect(await survivor.tick()).toBe(0);
    await a.waitForRuns(2);
    a.release();
    await survivor.drain();
    expect(a.runs.map((r) => r.job_id)).toEqual([jobId, jobId]);
    expect(b.runs.length).toBe(0);
    expect(f.logged("job lease expired: re-attaching on its live node").length).toBe(1);
    expect(f.dispatched()).toEqual(["abandoned", "completed"]);
    expect(await f.taskRow(taskId)).toMatchObject({ status: "completed", closed: true });
  });

  it("requeues a job whose holder is gone when its node is gone too", async () => {
    const a = f.worker({ hold: true });
    const b = f.worker();
    await readyNode(f.cp, "node-a", a, 1);
    const { jobId } = await insertTaskWithJob(f.t.db);
    const crashed = f.dispatcher();
    expect(await crashed.tick()).toBe(1);
    await a.waitForRuns(1);
    await crashed.stop();
    await a.stop();
    await f.t.db.updateTable("nodes").set({ suspect_since: f.clock.now }).where("node_slug", "=", "node-a").execute();
    await readyNode(f.cp, "node-b", b, 1);
    f.advance(9_000);
    const survivor = f.dispatcher();
    expect(await survivor.tick()).toBe(0);
    expect(await f.jobRow(jobId)).toMatchObject({ status: "queued", node_id: null });
    expect(f.logged("job lease expired on a lost node: requeued").length).toBe(1);
    f.advance(1_000);
    await runToIdle(survivor);
    expect(b.runs.map((r) => r.job_id)).toEqual([jobId]);
    expect((await f.jobRow(jobId)).status).toBe("completed");
  });

  it("renews the leases it holds so a long job is not reaped", async () => {
    const { w, d, jobId } = await f.heldJob({ leaseMs: 30_000 });
    await w.waitForRuns(1);
    for (let i = 0; i < 4; i++) {
      f.advance(20_000);
      await d.tick();
    }
    expect((await f.jobRow(jobId)).status).toBe("running");
    w.release();
    await d.drain();
    expect((await f.jobRow(jobId)).status).toBe("completed");
  });
});

describe("answers", () => {
  it("is true only for a 2xx from the node's /healthz within the bound", async () => {
    const w = f.worker();
    expect(await answers(`${w.url}/`, 1000, fetch)).toBe(true);
    const seen: string[] = [];
    const refusing = (async (url: string) => {
      seen.push(url);
      return new Response("no", { status: 503 });
    }) as unknown as typeof fetch;
    expect(await answers("http://node.test:12090/", 1000, refusing)).toBe(false);
    expect(seen).toEqual(["http://node.test:12090/healthz"]);
    await w.stop();
    expect(await answers(w.url, 1000, fetch)).toBe(false);
  });
});

describe("probing suspect nodes", () => {
  it("gives a suspect node work again once it answers a probe", async () => {
    const { w, d, jobId: lost } = await f.heldJob({ maxHttpTimeoutMs: 100 });
    await d.drain();
    expect((await f.nodeRow("node-a")).suspect_since).not.toBeNull();
    w.release();
    f.advance(1_000);
    expect(await d.tick()).toBe(0); // suspect: probed, not dispatched to
    await d.drain();
    expect((await f.nodeRow("node-a")).suspect_since).toBeNull();
    expect(f.logged("suspect node answers again").length > 0).toBe(true);
    const fresh = await insertTaskWithJob(f.t.db);
    await runToIdle(f.dispatcher());
    expect(w.runs.map((r) => r.job_id)).toEqual([lost, fresh.jobId]);
  });
});
