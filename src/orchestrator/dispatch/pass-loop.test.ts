import { describe, expect, it } from "bun:test";
import { useDispatchFixture } from "../../testing/dispatch-fixture";
import { insertTaskWithJob } from "../../testing/queued-job";
import { createPassLoop } from "./pass-loop";

const f = useDispatchFixture();

describe("createPassLoop", () => {
  it("passes again at once when woken during a pass, else waits for the interval or a wake", async () => {
    let passes = 0;
    const loop = createPassLoop(async () => {
      passes++;
      if (passes === 1) loop.wake(); // something finished during the first pass
    }, 3_600_000);
    loop.start();
    loop.start(); // already running: no second loop
    await Bun.sleep(20);
    expect(passes).toBe(2);
    loop.wake();
    await Bun.sleep(20);
    expect(passes).toBe(3);
    await loop.stop();
    loop.wake();
    await Bun.sleep(20);
    expect(passes).toBe(3);
  });

  it("passes again after the interval", async () => {
    let passes = 0;
    const loop = createPassLoop(async () => void passes++, 5);
    loop.start();
    await Bun.sleep(100);
    await loop.stop();
    expect(passes).toBeGreaterThan(3);
  });
});

describe("the dispatcher's loop", () => {
  it("runs as a loop until stopped, abandoning in-flight calls to the lease", async () => {
    const w = await f.node("node-a", 1, { hold: true });
    const { jobId } = await insertTaskWithJob(f.t.db);
    const d = f.started({ pollIntervalMs: 5 });
    d.start();
    await w.waitForRuns(1);
    await d.stop();
    expect(f.dispatched()).toEqual(["abandoned"]);
    expect((await f.jobRow(jobId)).status).toBe("running");
  });

  it("dispatches a job queued while it idles as soon as it is woken, not at the next poll", async () => {
    const w = await f.node("node-a", 1);
    const d = f.started({ pollIntervalMs: 3_600_000 });
    await insertTaskWithJob(f.t.db);
    d.wake(); // the first pass may have run before the insert; the next one only comes when woken
    await w.waitForRuns(1);
    await d.drain();
    await d.stop();
    expect(f.dispatched()).toEqual(["completed"]);
  });

  it("logs a failed pass and goes on", async () => {
    const d = f.started({ now: () => new Date(Number.NaN), pollIntervalMs: 5 });
    await Bun.sleep(50);
    await d.stop();
    expect(f.logged("dispatch pass failed").length).toBeGreaterThan(1);
  });
});
