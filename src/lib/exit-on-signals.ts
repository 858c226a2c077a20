/**
 * SIGTERM/SIGINT stop a service once, then exit 0 (1 when stopping fails). Installed before start-up finishes, so a
 * signal that arrives right after a "listening" line still stops what was started (e.g. the embedded Postgres).
 * Stopping is bounded: whatever hangs (a start-up still waiting, a database that went away), the process exits
 * within `deadlineMs` of the signal (code 1, "shutdown timed out").
 */
import type { Logger } from "./log";

export const SHUTDOWN_DEADLINE_MS = 9_000;

export function exitOnSignals(
  log: Logger,
  running: Promise<{ stop(): Promise<void> }>,
  deadlineMs = SHUTDOWN_DEADLINE_MS,
): void {
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    setTimeout(() => {
      log.error("shutdown timed out", { deadline_ms: deadlineMs });
      process.exit(1);
    }, deadlineMs);
    try {
      await (await running).stop();
    } catch (err) {
      log.error("shutdown failed", { error: err });
      process.exit(1);
    }
    process.exit(0);
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => void stop(signal));
}
