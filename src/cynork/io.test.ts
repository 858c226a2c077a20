import { describe, expect, it } from "bun:test";
import { sleep } from "./io";

describe("sleep", () => {
  it("resolves at once when interrupted, so Ctrl+C never waits out a poll interval", async () => {
    const interrupt = new AbortController();
    const waiting = sleep(3_600_000, interrupt.signal);
    interrupt.abort();
    expect(await waiting).toBeUndefined();
  });

  it("resolves after the interval", async () => {
    expect(await sleep(1, new AbortController().signal)).toBeUndefined();
  });
});
