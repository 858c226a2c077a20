import { describe, expect, it } from "bun:test";
import { CliError } from "./errors";
import { extractGlobals } from "./globals";

describe("extractGlobals", () => {
  it("pulls global flags from anywhere before --, leaving the rest in order", () => {
    const { globals, rest } = extractGlobals([
      "-o",
      "json",
      "task",
      "list",
      "-q",
      "--config=/x.yaml",
      "-l",
      "5",
      "--no-color",
      "--",
      "-q",
    ]);
    expect(globals).toEqual({ output: "json", quiet: true, noColor: true, help: false, config: "/x.yaml" });
    expect(rest).toEqual(["task", "list", "-l", "5", "--", "-q"]);
  });

  it("defaults to table output", () => {
    expect(extractGlobals(["version"]).globals).toEqual({ output: "table", quiet: false, noColor: false, help: false });
    expect(extractGlobals(["-h", "--output=table", "-c", "f"]).globals).toMatchObject({
      help: true,
      output: "table",
      config: "f",
    });
    expect(extractGlobals(["--quiet=false"]).globals.quiet).toBe(false);
  });

  it("rejects a bad output format or a missing value with a usage error", () => {
    for (const [argv, message] of [
      [["-o", "yaml"], "output must be table or json"],
      [["--output"], "flag needs an argument: --output"],
    ] as const) {
      const err = (() => {
        try {
          extractGlobals(argv);
        } catch (e) {
          return e as CliError;
        }
      })();
      expect(err).toBeInstanceOf(CliError);
      expect([err!.exitCode, err!.message]).toEqual([2, message]);
    }
  });
});
