/**
 * The sessions this orchestrator knows to be ended, in memory so checking a token costs no query (decision 17).
 * Filled by this process when it ends one, and from the database and LISTEN/NOTIFY for the rest of the cluster
 * (revoked-session-listener.ts). An entry is dropped once every token of its session has expired anyway.
 */
import type { Revocation } from "../db/revoked-sessions";

export type RevokedSessions = ReturnType<typeof createRevokedSessions>;

export function createRevokedSessions(now: () => Date = () => new Date()) {
  const until = new Map<string, number>();
  let nextPrune = 0;

  function prune(t: number) {
    if (t < nextPrune) return;
    nextPrune = t + 60_000;
    for (const [id, end] of until) if (end <= t) until.delete(id);
  }

  return {
    add(revocations: Revocation[]): void {
      for (const r of revocations) until.set(r.id, Math.max(until.get(r.id) ?? 0, r.until.getTime()));
    },
    has(sessionId: string): boolean {
      const t = now().getTime();
      prune(t);
      return (until.get(sessionId) ?? 0) > t;
    },
    get size(): number {
      return until.size;
    },
  };
}
