/** The record of one job's egress attempts: each open one with its bytes so far, then kept when it closes (capped). */
import { type EgressAttempt, MAX_EGRESS_RECORDS } from "../../contracts/egress";

export type EgressLog = {
  /** Every attempt so far; those still open with their bytes and duration until now. */
  attempts(): EgressAttempt[];
  /** Whether a connection was refused (an agent task that then fails ends with `ext_net_required`). */
  refused(): boolean;
};

export type EgressRecords = EgressLog & {
  /** Starts recording an attempt; `end` fixes its duration and keeps it. */
  open(attempt: EgressAttempt): { end(): void };
  /** Attempts past the cap, counted only. */
  readonly dropped: number;
};

export function createEgressRecords(now = () => performance.now()): EgressRecords {
  const kept: EgressAttempt[] = [];
  const open = new Map<EgressAttempt, number>();
  let dropped = 0;
  const upToNow = (a: EgressAttempt, started: number) => ({ ...a, duration_ms: Math.round(now() - started) });
  return {
    open(attempt) {
      open.set(attempt, now());
      return {
        end() {
          const started = open.get(attempt);
          if (started === undefined) return;
          open.delete(attempt);
          if (kept.length < MAX_EGRESS_RECORDS) kept.push(upToNow(attempt, started));
          else dropped++;
        },
      };
    },
    attempts: () => [...kept, ...[...open].map(([a, started]) => upToNow(a, started))].slice(0, MAX_EGRESS_RECORDS),
    refused: () => kept.some((a) => a.decision === "refused") || [...open.keys()].some((a) => a.decision === "refused"),
    get dropped() {
      return dropped;
    },
  };
}
