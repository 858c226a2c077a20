/** A fixed one-minute window of requests per user; in memory, so per orchestrator process. */
export type UserRateLimit = {
  take(userId: string, now: Date): { ok: true } | { ok: false; retryAfterSeconds: number };
};

export function createUserRateLimit(perMinute: number): UserRateLimit {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    take(userId, now) {
      const t = now.getTime();
      let w = windows.get(userId);
      if (!w || t - w.start >= 60_000) {
        // Drop finished windows now and then so the map stays as small as the set of active users.
        if (windows.size > 10_000) for (const [k, old] of windows) if (t - old.start >= 60_000) windows.delete(k);
        w = { start: t, count: 0 };
        windows.set(userId, w);
      }
      if (w.count >= perMinute)
        return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((w.start + 60_000 - t) / 1000)) };
      w.count++;
      return { ok: true };
    },
  };
}
