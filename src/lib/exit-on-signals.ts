/**
 * SIGTERM/SIGINT stop a service once, then exit 0 (1 when stopping fails). Installed before start-up finishes, so a
 * signal that arrives right after a "listening" line still stops what was started (e.g. the embedded Postgres).
 */
import type { Logger } from "./log";

export function exitOnSignals(log: Logger, running: Promise<{ stop(): Promise<void> }>): void {
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
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
