/**
 * Login throttling (decision 10): fixed one-minute windows per client IP and per handle, and a temporary
 * lockout of a handle after consecutive failures. In memory: a restart forgives, which is acceptable.
 */
export type LoginLimiterOptions = {
  perMinute: number;
  maxFailures: number;
  lockoutMs: number;
  now?: () => number;
};

type Window = { start: number; count: number };
type Failures = { count: number; lockedUntil: number; last: number };
const MAX_TRACKED = 10_000;

export type LoginLimiter = ReturnType<typeof createLoginLimiter>;

export function createLoginLimiter(opts: LoginLimiterOptions) {
  const now = opts.now ?? Date.now;
  const windows = new Map<string, Window>();
  const failures = new Map<string, Failures>();

  function hit(key: string, t: number): boolean {
    let w = windows.get(key);
    if (!w || t - w.start >= 60_000) {
      if (windows.size > MAX_TRACKED) for (const [k, v] of windows) if (t - v.start >= 60_000) windows.delete(k);
      w = { start: t, count: 0 };
      windows.set(key, w);
    }
    w.count++;
    return w.count <= opts.perMinute;
  }

  return {
    /** Counts an attempt; returns the seconds to wait when it must be refused. */
    attempt(ip: string, handle: string): number | undefined {
      const t = now();
      const lock = failures.get(handle);
      if (lock && lock.lockedUntil > t) return Math.ceil((lock.lockedUntil - t) / 1000);
      const ipOk = hit(`ip:${ip}`, t);
      const handleOk = hit(`handle:${handle}`, t);
      return ipOk && handleOk ? undefined : 60;
    },
    /** Counts a failure; true when it locked the handle out. */
    failed(handle: string): boolean {
      const t = now();
      // Handles sprayed by an attacker must not grow this map without bound: forget stale, unlocked entries.
      if (failures.size > MAX_TRACKED)
        for (const [k, v] of failures) if (v.lockedUntil <= t && t - v.last >= opts.lockoutMs) failures.delete(k);
      const f = failures.get(handle) ?? { count: 0, lockedUntil: 0, last: t };
      f.count++;
      f.last = t;
      const locks = f.count >= opts.maxFailures;
      if (locks) {
        f.lockedUntil = t + opts.lockoutMs;
        f.count = 0;
      }
      failures.set(handle, f);
      return locks;
    },
    succeeded(handle: string): void {
      failures.delete(handle);
    },
  };
}
