import { describe, expect, it } from "bun:test";
import { CliError } from "./errors";
import { pollInterval, resultPollDelay } from "./wait-for-task";

describe("pollInterval", () => {
  it("parses durations of at least one second, defaulting to 2s", () => {
    expect([
      pollInterval(undefined, "--interval"),
      pollInterval("1s", "--interval"),
      pollInterval("1m", "--interval"),
      pollInterval("3", "--interval"),
    ]).toEqual([2000, 1000, 60_000, 3000]);
  });

  it("rejects bad or too short intervals with a usage error", () => {
    expect(() => pollInterval("fast", "--wait-interval")).toThrow(
      new CliError(2, 'invalid --wait-interval "fast": use a duration such as 2s'),
    );
    expect(() => pollInterval("500ms", "--interval")).toThrow("--interval must be at least 1s");
  });
});

describe("resultPollDelay", () => {
  it("polls every 250 ms for the first two seconds, then every 2 s", () => {
    expect(Array.from({ length: 10 }, (_, tick) => resultPollDelay(tick))).toEqual([
      250, 250, 250, 250, 250, 250, 250, 250, 2000, 2000,
    ]);
  });
});
