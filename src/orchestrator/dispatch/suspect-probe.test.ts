import { describe, expect, it } from "bun:test";
import { runToIdle, useDispatchFixture } from "../../testing/dispatch-fixture";
import { insertTaskWithJob } from "../../testing/queued-job";
import { answers } from "./suspect-probe";

const f = useDispatchFixture();

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
