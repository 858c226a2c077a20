import { describe, expect, it } from "bun:test";
import type { ArgsDef } from "citty";
import { CliError } from "./errors";
import { extractGlobals, matchFlag, parseFlags } from "./flags";

const args = {
  id: { type: "positional", required: false },
  prompt: { type: "string", alias: "p" },
  name: { type: "string", alias: "task-name" },
  command: { type: "string" },
  yes: { type: "boolean", alias: "y" },
  limit: { type: "string", alias: "l", default: "50" },
  "no-clear": { type: "boolean" },
} satisfies ArgsDef;

function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    return (err as Error).message;
  }
  throw new Error("expected a usage error");
}

describe("parseFlags", () => {
  it("reads long, short, alias and inline forms", () => {
    const f = parseFlags(["abc", "-p", "hi", "--task-name=n", "-y", "-l=5"], args);
    expect(f.positionals).toEqual(["abc"]);
    expect([f.string("prompt"), f.string("name"), f.bool("yes"), f.string("limit")]).toEqual(["hi", "n", true, "5"]);
  });

  it("falls back to defaults and reports which flags were given", () => {
    const f = parseFlags([], args);
    expect([f.string("limit"), f.string("prompt"), f.bool("yes"), f.has("yes")]).toEqual([
      "50",
      undefined,
      false,
      false,
    ]);
  });

  it("keeps every value of a repeatable flag in order, and the last of others", () => {
    const f = parseFlags(["--command", "a", "-p", "1", "--command=b", "-p", "2"], args, ["command"]);
    expect(f.list("command")).toEqual(["a", "b"]);
    expect(f.string("prompt")).toBe("2");
    expect(f.list("prompt")).toEqual(["2"]);
  });

  it("takes a value even when it starts with a dash, and treats what follows -- as positional", () => {
    expect(parseFlags(["-p", "-x"], args).string("prompt")).toBe("-x");
    expect(parseFlags(["--", "-y"], args).positionals).toEqual(["-y"]);
    expect(parseFlags(["-"], args).positionals).toEqual(["-"]);
  });

  it("handles boolean values and negation", () => {
    expect(parseFlags(["--yes=false"], args).bool("yes")).toBe(false);
    expect(parseFlags(["--no-yes"], args).bool("yes")).toBe(false);
    expect(parseFlags(["--no-clear"], args).bool("no-clear")).toBe(true);
    expect(usage(() => parseFlags(["--yes=maybe"], args))).toBe('invalid argument "maybe" for "--yes" flag');
  });

  it("rejects unknown flags, missing values and extra arguments", () => {
    expect(usage(() => parseFlags(["--password", "x"], args))).toBe("unknown flag: --password");
    expect(usage(() => parseFlags(["--bogus=1"], args))).toBe("unknown flag: --bogus");
    expect(usage(() => parseFlags(["-z"], args))).toBe("unknown flag: -z");
    expect(usage(() => parseFlags(["--no-prompt"], args))).toBe("unknown flag: --no-prompt");
    expect(usage(() => parseFlags(["-p"], args))).toBe("flag needs an argument: -p");
    expect(usage(() => parseFlags(["a", "b"], args))).toBe("accepts 1 arg(s), received 2");
    expect(usage(() => parseFlags([""], args))).toBe("ID must not be empty");
  });

  it("names a missing positional before any other mistake, an unknown flag taking no value", () => {
    const one = { task: { type: "positional" }, stream: { type: "string" } } satisfies ArgsDef;
    expect(usage(() => parseFlags([], one))).toBe("Missing required positional argument: TASK");
    expect(usage(() => parseFlags(["--bogus"], one))).toBe("Missing required positional argument: TASK");
    expect(usage(() => parseFlags(["--stream", "x"], one))).toBe("Missing required positional argument: TASK");
    expect(usage(() => parseFlags(["--stream"], one))).toBe("Missing required positional argument: TASK");
    expect(usage(() => parseFlags(["--bogus", "x"], one))).toBe("unknown flag: --bogus");
    expect(parseFlags(["x", "--stream=all"], one).positionals).toEqual(["x"]);
  });

  it("does not treat a long alias as a short flag or the reverse", () => {
    expect(matchFlag("-task-name", args)).toBeUndefined();
    expect(matchFlag("--p", args)).toBeUndefined();
  });
});

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
