import { afterEach, beforeEach, describe, expect, it } from "bun:test";
import { mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunJobRequest, RunJobResponse } from "../../contracts/worker-api";
import { memoryLogger } from "../../lib/log";
import { createIdempotentRuns } from "./idempotent-runs";

const job = (jobId: string = crypto.randomUUID()): RunJobRequest => ({
  version: 1,
  task_id: "t1",
  job_id: jobId,
  sandbox: { command: ["true"] },
});
const response = (req: RunJobRequest, stdout: string): RunJobResponse => ({
  version: 1,
  task_id: req.task_id,
  job_id: req.job_id,
  status: "completed",
  exit_code: 0,
  stdout,
  stderr: "",
  started_at: "2026-03-01T10:00:00Z",
  ended_at: "2026-03-01T10:00:01Z",
  truncated: { stdout: false, stderr: false },
});

let dir: string;
let runs: RunJobRequest[];
let gate: ReturnType<typeof Promise.withResolvers<void>>;
const log = memoryLogger("idempotent-runs");
const run = async (req: RunJobRequest) => {
  runs.push(req);
  await gate.promise;
  return response(req, `run ${runs.length}`);
};

beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), "cynode-idem-")), "job-results");
  runs = [];
  gate = Promise.withResolvers<void>();
});
afterEach(() => rm(join(dir, ".."), { recursive: true, force: true }));

describe("jobs:run idempotent by job_id", () => {
  it("attaches a repeated call for a running job to it: one run, the same result", async () => {
    const runsApi = createIdempotentRuns({ run, dir, log });
    const req = job();
    const first = runsApi.run(req);
    const second = runsApi.run(req);
    gate.resolve();
    expect(await first).toEqual(await second);
    expect(runs.length).toBe(1);
    expect(log.lines.some((l) => l.msg === "job run attached" && l.job_id === req.job_id)).toBe(true);
  });

  it("returns the kept result for a finished job, also after a restart of the worker", async () => {
    gate.resolve();
    const req = job();
    const first = await createIdempotentRuns({ run, dir, log }).run(req);
    const restarted = createIdempotentRuns({ run, dir, log });
    expect(await restarted.run(req)).toEqual(first);
    expect(runs.length).toBe(1);
    expect(await readdir(dir)).toEqual([`${req.job_id}.json`]);
  });

  it("runs again once the result is older than the retention window, and sweeps old results", async () => {
    gate.resolve();
    let clock = new Date();
    const runsApi = createIdempotentRuns({ run, dir, log, retentionMs: 1_000, now: () => clock });
    const old = job();
    await runsApi.run(old);
    clock = new Date(clock.getTime() + 120_000);
    expect((await runsApi.run(old)).stdout).toBe("run 2");
    const stale = join(dir, "stale-job.json");
    await writeFile(stale, "{}");
    await utimes(stale, new Date(0), new Date(0));
    clock = new Date(clock.getTime() + 120_000);
    await runsApi.run(job("fresh-job"));
    expect((await readdir(dir)).sort()).toEqual(["fresh-job.json"]);
  });

  it("runs a job whose kept file is unreadable, and passes unsafe ids to the runner untouched", async () => {
    gate.resolve();
    const runsApi = createIdempotentRuns({ run, dir, log });
    const req = job("garbled");
    await runsApi.run(req);
    await writeFile(join(dir, "garbled.json"), "{not json");
    expect((await runsApi.run(req)).stdout).toBe("run 2");
    expect((await runsApi.run(job("../escape"))).job_id).toBe("../escape");
    expect(await readdir(dir)).not.toContain("escape.json");
  });

  it("still answers when the result cannot be kept", async () => {
    gate.resolve();
    await writeFile(join(dir, "..", "blocker"), "");
    const runsApi = createIdempotentRuns({ run, dir: join(dir, "..", "blocker", "sub"), log });
    expect((await runsApi.run(job())).stdout).toBe("run 1");
    expect(log.lines.some((l) => l.msg === "job result not kept")).toBe(true);
  });
});
