/** A job while it runs: whether it was canceled or timed out, and how to stop its sandbox at once. */
import type { RunEnd } from "./job-result";

export type RunningJob = {
  canceled: boolean;
  timedOut: boolean;
  /** It took a warm sandbox. */
  warm: boolean;
  /** Stops the job's sandbox at once; replaced once the sandbox exists. */
  kill(): Promise<void>;
  /** Settles when the job's run has ended. */
  done: Promise<unknown>;
};

export const newRunningJob = (): RunningJob => ({
  canceled: false,
  timedOut: false,
  warm: false,
  kill: async () => {},
  done: Promise.resolve(),
});

/** Runs `work` under the job's timer: at the deadline the job counts as timed out and its sandbox is killed. */
export async function underTimeout<T>(job: RunningJob, seconds: number, work: Promise<T>): Promise<T> {
  const timer = setTimeout(() => {
    job.timedOut = true;
    void job.kill();
  }, seconds * 1000);
  return work.finally(() => clearTimeout(timer));
}

/** How a job whose sandbox exited ended: canceled and timed out win over its exit status. */
export const endOf = (job: RunningJob, exited: Extract<RunEnd, { kind: "exited" }>): RunEnd =>
  job.canceled ? { ...exited, kind: "canceled" } : job.timedOut ? { ...exited, kind: "timeout" } : exited;
