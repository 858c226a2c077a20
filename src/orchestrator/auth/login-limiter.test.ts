import { describe, expect, it } from "bun:test";
import { createLoginLimiter } from "./login-limiter";

const GO = { delayMs: 0 };

describe("login limiter", () => {
  it("locks a (handle, address) pair after consecutive failures until the lockout ends; a success resets it", () => {
    let t = 0;
    const l = createLoginLimiter({ perMinute: 100, maxFailures: 2, lockoutMs: 60_000, now: () => t });
    l.failed("ip1", "a");
    l.succeeded("ip1", "a");
    expect(l.failed("ip1", "a")).toBe(false);
    expect(l.attempt("ip1", "a")).toEqual(GO);
    l.settled("a");
    expect(l.failed("ip1", "a")).toBe(true); // this failure locks the pair (the lock-out metric counts it)
    expect(l.attempt("ip1", "a")).toEqual({ retryAfter: 60 });
    expect("delayMs" in l.attempt("ip2", "a")).toBe(true); // the same handle from elsewhere is not locked
    expect(l.attempt("ip1", "b")).toEqual(GO); // nor another handle from the locked address
    t = 59_001;
    expect(l.attempt("ip1", "a")).toEqual({ retryAfter: 1 });
    t = 60_000;
    expect("delayMs" in l.attempt("ip1", "a")).toBe(true);
  });

  it("slows a handle failing from many addresses down progressively, capped, without refusing it", () => {
    let t = 0;
    const l = createLoginLimiter({ perMinute: 100, maxFailures: 3, lockoutMs: 60_000, maxDelayMs: 2000, now: () => t });
    const delays = [];
    for (let i = 0; i < 8; i++) {
      delays.push(l.attempt("owner", "admin"));
      l.failed(`10.0.0.${i}`, "admin");
      l.settled("admin");
    }
    expect(delays).toEqual([
      GO,
      GO,
      GO,
      { delayMs: 250 },
      { delayMs: 500 },
      { delayMs: 1000 },
      { delayMs: 2000 },
      { delayMs: 2000 },
    ]);
    l.succeeded("owner", "admin"); // the owner got in: the handle starts afresh
    expect(l.attempt("owner", "admin")).toEqual(GO);
    for (let i = 0; i < 5; i++) l.failed(`10.1.0.${i}`, "admin");
    t = 60_000; // failures older than the lockout window are forgotten
    expect(l.attempt("owner", "admin")).toEqual(GO);
  });
});

describe("login limiter queue", () => {
  it("counts attempts in flight: parallel guesses get one reserved slot each, after the one before", () => {
    let t = 1000;
    const l = createLoginLimiter({ perMinute: 100, maxFailures: 2, lockoutMs: 60_000, maxDelayMs: 1000, now: () => t });
    const verdicts = Array.from({ length: 6 }, (_, i) => l.attempt(`10.0.0.${i}`, "admin"));
    // Two evaluated at once, then each waits for the slot before it plus its own, doubling, capped delay.
    expect(verdicts).toEqual([GO, GO, { delayMs: 250 }, { delayMs: 750 }, { delayMs: 1750 }, { delayMs: 2750 }]);
    t = 1500;
    expect(l.attempt("owner", "other")).toEqual(GO); // another handle is not queued
    for (let i = 0; i < 6; i++) l.settled("admin");
    expect(l.attempt("owner", "admin")).toEqual(GO); // nothing in flight, no failure recorded: no wait
  });

  it("refuses an attempt while the handle's queue is longer than maxQueueMs", () => {
    const l = createLoginLimiter({
      perMinute: 100,
      maxFailures: 0,
      lockoutMs: 60_000,
      maxDelayMs: 1000,
      maxQueueMs: 2000,
      now: () => 0,
    });
    expect([l.attempt("a", "h"), l.attempt("b", "h"), l.attempt("c", "h")]).toEqual([
      { delayMs: 250 },
      { delayMs: 750 },
      { delayMs: 1750 },
    ]);
    expect(l.attempt("d", "h")).toEqual({ retryAfter: 2 });
  });
});

describe("login limiter windows", () => {
  it("opens a fresh per-address window each minute", () => {
    let t = 0;
    const l = createLoginLimiter({ perMinute: 1, maxFailures: 5, lockoutMs: 1, now: () => t });
    expect(l.attempt("ip", "a")).toEqual(GO);
    expect(l.attempt("ip", "b")).toEqual({ retryAfter: 60 });
    expect(l.attempt("other", "b")).toEqual(GO);
    t = 60_000;
    expect(l.attempt("ip", "b")).toEqual(GO);
  });

  it("forgets stale failure records once it tracks many", () => {
    let t = 0;
    const l = createLoginLimiter({ perMinute: 1_000_000, maxFailures: 3, lockoutMs: 1000, now: () => t });
    l.failed("ip", "victim");
    l.failed("ip", "victim");
    for (let i = 0; i <= 10_000; i++) l.failed("ip", `spray-${i}`);
    for (let i = 0; i <= 10_000; i++) l.attempt(`ip-${i}`, "x");
    t = 61_000; // every record and window is now stale
    l.failed("ip", "trigger"); // prunes
    l.attempt("ip-new", "x"); // prunes windows
    l.failed("ip", "victim"); // the victim's two old failures were forgotten: this is its first
    l.failed("ip", "victim");
    expect(l.attempt("ip", "victim")).toEqual(GO);
  });
});
