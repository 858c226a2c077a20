import { afterEach, beforeEach, describe, expect, it } from "bun:test";
import { memoryLogger } from "../../lib/log";
import { serveApp, type Served } from "../../lib/serve";
import { useDispatchFixture } from "../../testing/dispatch-fixture";
import { insertTaskWithJob } from "../../testing/queued-job";
import { readyNode } from "../../testing/ready-node";
import { until } from "../../testing/until";
import { createJobProgressReporter, jobStepReports, type ProgressTarget } from "./job-progress-reporter";

const f = useDispatchFixture();
let served: Served;
let jwt: string;
let jobId: string;
let posts: number;
const log = memoryLogger("reporter-test");
const countingFetch = ((input: string | URL | Request, init?: RequestInit) => {
  posts++;
  return fetch(input, init);
}) as typeof fetch;

beforeEach(async () => {
  posts = 0;
  served = serveApp(f.cp, { hostname: "127.0.0.1", port: 0 });
  const w = f.worker({ hold: true });
  jwt = await readyNode(f.cp, "node-a", w, 1);
  jobId = (await insertTaskWithJob(f.t.db)).jobId;
  expect(await f.dispatcher().tick()).toBe(1);
});
afterEach(async () => {
  await served.stop();
});

const reporter = (target: () => ProgressTarget | undefined = () => ({ baseUrl: `${served.url}/`, nodeJwt: jwt })) =>
  createJobProgressReporter({ jobId, target, log, fetch: countingFetch, flushMs: 10 });
const progressOf = async (id = jobId) => (await f.jobRow(id)).progress;

describe("the job progress reporter", () => {
  it("posts lines in order, in batches of at most 100, with the node's token", async () => {
    const r = reporter();
    const lines = Array.from({ length: 150 }, (_, i) => `step ${i}`);
    for (const line of lines) r.report(line);
    await r.close();
    expect(await progressOf()).toEqual(lines);
    expect(posts).toBe(2);
    r.report("after close");
    await r.close();
    expect(posts).toBe(2);
  });

  it("posts a lone line after the flush delay, without waiting for more", async () => {
    const r = reporter();
    r.report("step 1: model turn");
    await until(async () => ((await progressOf()) as string[]).length === 1, "the line posted");
    expect(await progressOf()).toEqual(["step 1: model turn"]);
    await r.close();
  });

  it("stops posting once the orchestrator refuses the job (not this node's)", async () => {
    const other = await insertTaskWithJob(f.t.db);
    const r = createJobProgressReporter({
      jobId: other.jobId,
      target: () => ({ baseUrl: String(served.url), nodeJwt: jwt }),
      log,
      fetch: countingFetch,
    });
    r.report("a");
    await r.close();
    expect(posts).toBe(1);
    expect(log.lines.some((l) => l.msg === "job progress not accepted" && l.status === 403)).toBe(true);
    expect(await progressOf(other.jobId)).toEqual([]);
  });

  it("drops lines while the node is not registered, and logs a post that fails", async () => {
    const unregistered = reporter(() => undefined);
    unregistered.report("a");
    await unregistered.close();
    expect(posts).toBe(0);
    const unreachable = reporter(() => ({ baseUrl: "http://127.0.0.1:1", nodeJwt: jwt }));
    unreachable.report("b");
    await unreachable.close();
    expect(posts).toBe(1);
    expect(log.lines.some((l) => l.msg === "job progress not sent")).toBe(true);
    expect(await progressOf()).toEqual([]);
  });
});

describe("job step reports", () => {
  it("post each job's lines with its own reporter and flush them when the job ends", async () => {
    const reports = jobStepReports({
      target: () => ({ baseUrl: String(served.url), nodeJwt: jwt }),
      log,
      flushMs: 60_000,
    });
    reports.onStep(jobId, "step 1 model turn");
    reports.onStep(jobId, "step 2 tool run_command");
    expect(await progressOf()).toEqual([]);
    await reports.end(jobId);
    expect(await progressOf()).toEqual(["step 1 model turn", "step 2 tool run_command"]);
    await reports.end(jobId);
    reports.onStep(jobId, "step 3 after the end");
    await reports.end(jobId);
    expect(await progressOf()).toEqual(["step 1 model turn", "step 2 tool run_command", "step 3 after the end"]);
  });
});
