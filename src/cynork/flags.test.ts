import { describe, expect, it } from "bun:test";
import type { ArgsDef } from "citty";
import { CliError } from "./errors";
import { matchFlag, parseFlags } from "./flags";

const args = {
  id: { type: "positional" },
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

  it("does not treat a long alias as a short flag or the reverse", () => {
    expect(matchFlag("-task-name", args)).toBeUndefined();
    expect(matchFlag("--p", args)).toBeUndefined();
  });
});
