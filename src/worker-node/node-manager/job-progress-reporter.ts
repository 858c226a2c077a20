/**
 * Posts an agent job's step lines to the control-plane as they happen (decision 22), batched: a line waits at most
 * `flushMs`, a full batch goes at once, and batches go one at a time, in order. Best-effort: a failed post is logged
 * and its lines dropped (the job's result keeps every step anyway); once the orchestrator says the job is not this
 * node's or no longer runs (403, 404, 409), the reporter stops posting.
 */
import { JOB_PROGRESS_BATCH_MAX } from "../../contracts/node-payloads";
import { CONTROL_PLANE_API } from "../../contracts/routes";
import type { Logger } from "../../lib/log";

/** Where and as whom to post: the orchestrator's base URL and the node's JWT, both from the bootstrap payload. */
export type ProgressTarget = { baseUrl: string; nodeJwt: string };

export type JobProgressReporterOptions = {
  jobId: string;
  /** Read at every post, so the token of a re-registration is the one used; undefined: not registered (lines dropped). */
  target: () => ProgressTarget | undefined;
  log: Logger;
  fetch?: typeof fetch;
  /** Longest a line waits before it is posted. */
  flushMs?: number;
  requestTimeoutMs?: number;
};

export type JobProgressReporter = {
  /** Queues one step line. */
  report(line: string): void;
  /** Posts what is queued and resolves once every post has ended; later lines are dropped. */
  close(): Promise<void>;
};

const GIVE_UP = new Set([403, 404, 409]);

export function createJobProgressReporter(opts: JobProgressReporterOptions): JobProgressReporter {
  const doFetch = opts.fetch ?? fetch;
  const flushMs = opts.flushMs ?? 200;
  const path = CONTROL_PLANE_API.jobProgress.path({ job_id: opts.jobId });
  let queued: string[] = [];
  let timer: Timer | undefined;
  let sending: Promise<void> = Promise.resolve();
  let stopped = false;
  let closed = false;

  async function post(lines: string[]): Promise<void> {
    const target = opts.target();
    if (stopped || !target) return;
    try {
      const res = await doFetch(target.baseUrl.replace(/\/+$/, "") + path, {
        method: CONTROL_PLANE_API.jobProgress.method,
        headers: { "content-type": "application/json", authorization: `Bearer ${target.nodeJwt}` },
        body: JSON.stringify({ lines }),
        signal: AbortSignal.timeout(opts.requestTimeoutMs ?? 10_000),
      });
      await res.body?.cancel();
      if (res.status === 204) return;
      if (GIVE_UP.has(res.status)) stopped = true;
      opts.log.warn("job progress not accepted", { job_id: opts.jobId, status: res.status, lines: lines.length });
    } catch (err) {
      opts.log.warn("job progress not sent", { job_id: opts.jobId, error: (err as Error).message });
    }
  }

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    while (queued.length) {
      const batch = queued.slice(0, JOB_PROGRESS_BATCH_MAX);
      queued = queued.slice(batch.length);
      sending = sending.then(() => post(batch));
    }
  }

  return {
    report(line) {
      if (closed || stopped) return;
      queued.push(line);
      if (queued.length >= JOB_PROGRESS_BATCH_MAX) flush();
      else timer ??= setTimeout(flush, flushMs);
    },
    async close() {
      closed = true;
      flush();
      await sending;
    },
  };
}

/** One reporter per running agent job, made at its first step line and closed when its result is known. */
export function jobStepReports(opts: Omit<JobProgressReporterOptions, "jobId">) {
  const open = new Map<string, JobProgressReporter>();
  return {
    onStep(jobId: string, line: string): void {
      let reporter = open.get(jobId);
      if (!reporter) open.set(jobId, (reporter = createJobProgressReporter({ ...opts, jobId })));
      reporter.report(line);
    },
    /** Posts what is queued for the job, then forgets it. */
    async end(jobId: string): Promise<void> {
      const reporter = open.get(jobId);
      open.delete(jobId);
      await reporter?.close();
    },
  };
}
export type JobStepReports = ReturnType<typeof jobStepReports>;
