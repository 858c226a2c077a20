/**
 * `jobs:run` is idempotent by `job_id` (decision 14): a repeated call for a running job attaches to it (same
 * result when it ends); for a finished job it returns the kept result. Results are kept as files in the node's state
 * dir for a retention window, so they survive a restart of the worker process too.
 */
import { mkdir, readdir, rename, stat, unlink, utimes } from "node:fs/promises";
import { join } from "node:path";
import * as v from "valibot";
import { RunJobResponse, type RunJobRequest } from "../../contracts/worker-api";
import type { Logger } from "../../lib/log";
import { SAFE_JOB_ID } from "../sandbox/job-sandbox";

export const DEFAULT_RESULT_RETENTION_MS = 60 * 60 * 1000;
/** Old results are swept at most this often (on a write), so a busy node does not list its dir per job. */
const PRUNE_EVERY_MS = 60_000;

export type IdempotentRunsDeps = {
  run: (job: RunJobRequest) => Promise<RunJobResponse>;
  /** Where finished results are kept, one `<job_id>.json` each. */
  dir: string;
  log: Logger;
  retentionMs?: number;
  now?: () => Date;
};

export function createIdempotentRuns(deps: IdempotentRunsDeps) {
  const { dir, log } = deps;
  const now = deps.now ?? (() => new Date());
  const retentionMs = deps.retentionMs ?? DEFAULT_RESULT_RETENTION_MS;
  const calls = new Map<string, Promise<RunJobResponse>>();
  let lastPrune = 0;
  const fileOf = (jobId: string) => join(dir, `${jobId}.json`);

  async function kept(jobId: string): Promise<RunJobResponse | undefined> {
    try {
      const file = fileOf(jobId);
      if (now().getTime() - (await stat(file)).mtimeMs > retentionMs) return undefined;
      const parsed = v.safeParse(RunJobResponse, JSON.parse(await Bun.file(file).text()));
      return parsed.success ? parsed.output : undefined;
    } catch {
      return undefined; // not kept (or unreadable): the job has not run here
    }
  }

  async function prune(): Promise<void> {
    const at = now().getTime();
    if (at - lastPrune < PRUNE_EVERY_MS) return;
    lastPrune = at;
    for (const name of await readdir(dir)) {
      const file = join(dir, name);
      const info = await stat(file).catch(() => undefined);
      if (info && at - info.mtimeMs > retentionMs) await unlink(file).catch(() => {});
    }
  }

  async function keep(res: RunJobResponse): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Written aside and renamed, so a crash mid-write never leaves a half result to be served.
    const partial = `${fileOf(res.job_id)}.${process.pid}.partial`;
    await Bun.write(partial, JSON.stringify(res));
    // The file's mtime is its keeping time, on the same clock retention is measured with.
    await utimes(partial, now(), now());
    await rename(partial, fileOf(res.job_id));
    await prune();
  }

  async function runOnce(job: RunJobRequest): Promise<RunJobResponse> {
    const done = await kept(job.job_id);
    if (done) {
      log.info("job result returned again", { job_id: job.job_id, status: done.status });
      return done;
    }
    const res = await deps.run(job);
    await keep(res).catch((err: Error) => log.warn("job result not kept", { job_id: job.job_id, error: err.message }));
    return res;
  }

  return {
    run(job: RunJobRequest): Promise<RunJobResponse> {
      // The runner refuses unsafe ids with its 400; they never become file names here.
      if (!SAFE_JOB_ID.test(job.job_id)) return deps.run(job);
      const attached = calls.get(job.job_id);
      if (attached) {
        log.info("job run attached", { job_id: job.job_id });
        return attached;
      }
      const call = runOnce(job).finally(() => calls.delete(job.job_id));
      calls.set(job.job_id, call);
      return call;
    },
  };
}
