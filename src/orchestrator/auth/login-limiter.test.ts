import { describe, expect, it } from "bun:test";
import { createLoginLimiter } from "./login-limiter";

describe("login limiter", () => {
  it("locks a handle after consecutive failures until the lockout ends, and a success resets the count", () => {
    let t = 0;
    const l = createLoginLimiter({ perMinute: 100, maxFailures: 2, lockoutMs: 60_000, now: () => t });
    l.failed("a");
    l.succeeded("a");
    expect(l.failed("a")).toBe(false);
    expect(l.attempt("ip", "a")).toBeUndefined();
    expect(l.failed("a")).toBe(true); // this failure locks the handle (the lock-out metric counts it)
    expect(l.attempt("ip", "a")).toBe(60);
    t = 59_001;
    expect(l.attempt("ip", "a")).toBe(1);
    t = 60_000;
    expect(l.attempt("ip", "a")).toBeUndefined();
  });

  it("opens a fresh window each minute", () => {
    let t = 0;
    const l = createLoginLimiter({ perMinute: 1, maxFailures: 5, lockoutMs: 1, now: () => t });
    expect(l.attempt("ip", "a")).toBeUndefined();
    expect(l.attempt("ip", "b")).toBe(60);
    t = 60_000;
    expect(l.attempt("ip", "b")).toBeUndefined();
  });

  it("forgets stale failure records once it tracks many handles", () => {
    let t = 0;
    const l = createLoginLimiter({ perMinute: 1_000_000, maxFailures: 3, lockoutMs: 1000, now: () => t });
    l.failed("victim");
    l.failed("victim");
    for (let i = 0; i <= 10_000; i++) l.failed(`spray-${i}`);
    t = 5000; // every record is now stale
    l.failed("trigger"); // prunes
    l.failed("victim"); // the victim's two old failures were forgotten: this is its first
    l.failed("victim");
    expect(l.attempt("ip", "victim")).toBeUndefined();
  });
});
