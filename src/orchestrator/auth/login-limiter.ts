/**
 * Login throttling (decision 17), built so an attacker cannot turn it against the owner:
 * - attempts per client address: a fixed one-minute window;
 * - consecutive failures per (handle, address) lock that pair only, so the owner elsewhere still logs in;
 * - failures against one handle from any address slow its logins down (a delay doubling per failure beyond
 *   `maxFailures`, capped) instead of locking the handle. Attempts still in flight count as failures, and each
 *   delay is reserved in the handle's queue (after the slot before it), so parallel guesses wait their turns one
 *   after another; a queue longer than `maxQueueMs` refuses the attempt for a while.
 * In memory: a restart forgives, which is acceptable.
 */
export type LoginLimiterOptions = {
  perMinute: number;
  maxFailures: number;
  lockoutMs: number;
  /** Cap of the progressive delay (default 10 s). */
  maxDelayMs?: number;
  /** Longest wait a handle's queue may reach before attempts are refused (default 30 s). */
  maxQueueMs?: number;
  now?: () => number;
};

/** What to do with an attempt: refuse it for `retryAfter` seconds, or go on after `delayMs`. */
export type LoginVerdict = { retryAfter: number } | { delayMs: number };

type Window = { start: number; count: number };
type Failures = { count: number; lockedUntil: number; last: number };
/** A handle's attempts in flight, and the end of the last delay reserved for one of them. */
type Queue = { pending: number; lastSlot: number };

const MAX_TRACKED = 10_000;
const BASE_DELAY_MS = 250;

export type LoginLimiter = ReturnType<typeof createLoginLimiter>;

/** Failure records that bound their own size: stale, unlocked entries go once many are tracked. */
function failureBook(staleMs: number) {
  const map = new Map<string, Failures>();
  return {
    get: (key: string, t: number): Failures | undefined => {
      const f = map.get(key);
      return f && (f.lockedUntil > t || t - f.last < staleMs) ? f : undefined;
    },
    add(key: string, t: number): Failures {
      if (map.size > MAX_TRACKED)
        for (const [k, v] of map) if (v.lockedUntil <= t && t - v.last >= staleMs) map.delete(k);
      const f = this.get(key, t) ?? { count: 0, lockedUntil: 0, last: t };
      f.count++;
      f.last = t;
      map.set(key, f);
      return f;
    },
    delete: (key: string) => map.delete(key),
  };
}

export function createLoginLimiter(opts: LoginLimiterOptions) {
  const now = opts.now ?? Date.now;
  const maxDelayMs = opts.maxDelayMs ?? 10_000;
  const windows = new Map<string, Window>();
  const pairs = failureBook(opts.lockoutMs);
  const handles = failureBook(opts.lockoutMs);
  const maxQueueMs = opts.maxQueueMs ?? 30_000;
  const queues = new Map<string, Queue>();
  // Handle and address joined by a character neither can hold (the storable rule refuses NUL).
  const pairKey = (ip: string, handle: string) => `${handle}\u0000${ip}`;

  function withinWindow(ip: string, t: number): boolean {
    let w = windows.get(ip);
    if (!w || t - w.start >= 60_000) {
      if (windows.size > MAX_TRACKED) for (const [k, v] of windows) if (t - v.start >= 60_000) windows.delete(k);
      w = { start: t, count: 0 };
      windows.set(ip, w);
    }
    w.count++;
    return w.count <= opts.perMinute;
  }

  return {
    /** Counts an attempt from `ip` on `handle` and says whether to refuse it or how long to delay it. */
    attempt(ip: string, handle: string): LoginVerdict {
      const t = now();
      const lock = pairs.get(pairKey(ip, handle), t);
      if (lock && lock.lockedUntil > t) return { retryAfter: Math.ceil((lock.lockedUntil - t) / 1000) };
      if (!withinWindow(ip, t)) return { retryAfter: 60 };
      const q = queues.get(handle) ?? { pending: 0, lastSlot: 0 };
      const beyond = (handles.get(handle, t)?.count ?? 0) + q.pending - opts.maxFailures;
      let delayMs = 0;
      if (beyond >= 0) {
        const slot = Math.max(t, q.lastSlot) + Math.min(maxDelayMs, BASE_DELAY_MS * 2 ** Math.min(beyond, 20));
        if (slot - t > maxQueueMs) return { retryAfter: Math.ceil((q.lastSlot - t) / 1000) };
        q.lastSlot = slot;
        delayMs = slot - t;
      }
      q.pending++;
      queues.set(handle, q);
      return { delayMs };
    },
    /** An attempt let through by `attempt` is over (whatever its outcome): it leaves the handle's queue. */
    settled(handle: string): void {
      const q = queues.get(handle);
      if (q && --q.pending <= 0) queues.delete(handle);
    },
    /** Counts a failure from `ip` on `handle`; true when it locked that (handle, address) pair out. */
    failed(ip: string, handle: string): boolean {
      const t = now();
      handles.add(handle, t);
      const pair = pairs.add(pairKey(ip, handle), t);
      const locks = pair.count >= opts.maxFailures;
      if (locks) {
        pair.lockedUntil = t + opts.lockoutMs;
        pair.count = 0;
      }
      return locks;
    },
    /** The right password: the pair and the handle start afresh. */
    succeeded(ip: string, handle: string): void {
      pairs.delete(pairKey(ip, handle));
      handles.delete(handle);
    },
  };
}
