/**
 * Strict flag parsing over citty `args` blocks. citty 0.2 parses with node's parseArgs in non-strict mode: unknown
 * flags pass silently and a repeated flag keeps only its last value. cynork needs both to behave like the
 * reference's pflag (unknown flag → usage error, `--command` repeatable), so the args block stays the single
 * declaration and this module reads it.
 */
import type { ArgDef, ArgsDef } from "citty";
import { usageError } from "./errors";

type FlagMatch = { name: string; def: ArgDef; inline?: string; negated: boolean; token: string };

function aliasesOf(def: ArgDef): string[] {
  const alias = "alias" in def ? def.alias : undefined;
  return alias === undefined ? [] : Array.isArray(alias) ? alias : [alias];
}

/** Which declared flag a token names (`--name`, `--name=v`, `--no-name`, `-x`, `-x=v`), if any. */
export function matchFlag(token: string, args: ArgsDef): FlagMatch | undefined {
  const long = token.startsWith("--");
  const body = token.slice(long ? 2 : 1);
  const eq = body.indexOf("=");
  const key = eq < 0 ? body : body.slice(0, eq);
  const inline = eq < 0 ? undefined : body.slice(eq + 1);
  const find = (k: string) =>
    Object.entries(args).find(
      ([name, def]) =>
        def.type !== "positional" &&
        (long
          ? name === k || aliasesOf(def).some((a) => a.length > 1 && a === k)
          : aliasesOf(def).some((a) => a.length === 1 && a === k)),
    );
  const direct = find(key);
  if (direct) return { name: direct[0], def: direct[1], inline, negated: false, token };
  if (long && key.startsWith("no-")) {
    const negated = find(key.slice(3));
    if (negated?.[1].type === "boolean") return { name: negated[0], def: negated[1], inline, negated: true, token };
  }
  return undefined;
}

const takesValue = (def: ArgDef) => def.type === "string" || def.type === "enum";

function booleanValue(m: FlagMatch): boolean {
  if (m.inline === undefined) return !m.negated;
  if (m.inline !== "true" && m.inline !== "false")
    throw usageError(`invalid argument "${m.inline}" for "${m.token.split("=")[0]}" flag`);
  return (m.inline === "true") !== m.negated;
}

export type ParsedFlags = {
  positionals: string[];
  string(name: string): string | undefined;
  bool(name: string): boolean;
  list(name: string): string[];
  has(name: string): boolean;
};

/**
 * Parses a command's own argv (after its name) against its args block. Flags in `repeatable` collect every
 * occurrence in order; others keep the last. Unknown flags, missing values and extra positionals are usage errors.
 */
export function parseFlags(rawArgs: string[], args: ArgsDef, repeatable: readonly string[] = []): ParsedFlags {
  const values = new Map<string, string[]>();
  const bools = new Map<string, boolean>();
  const positionals: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const token = rawArgs[i]!;
    if (token === "--") {
      positionals.push(...rawArgs.slice(i + 1));
      break;
    }
    if (!token.startsWith("-") || token === "-") {
      positionals.push(token);
      continue;
    }
    const m = matchFlag(token, args);
    if (!m) throw usageError(`unknown flag: ${token.split("=")[0]}`);
    if (!takesValue(m.def)) {
      bools.set(m.name, booleanValue(m));
      continue;
    }
    const value = m.inline ?? rawArgs[++i];
    if (value === undefined) throw usageError(`flag needs an argument: ${token}`);
    const seen = repeatable.includes(m.name) ? (values.get(m.name) ?? []) : [];
    values.set(m.name, [...seen, value]);
  }
  const wanted = Object.keys(args).filter((name) => args[name]!.type === "positional");
  if (positionals.length > wanted.length)
    throw usageError(`accepts ${wanted.length} arg(s), received ${positionals.length}`);
  const empty = positionals.indexOf("");
  if (empty >= 0) throw usageError(`${wanted[empty]!.toUpperCase()} must not be empty`);
  return {
    positionals,
    string: (name) => values.get(name)?.at(-1) ?? (args[name]?.default as string | undefined),
    bool: (name) => bools.get(name) ?? args[name]?.default === true,
    list: (name) => values.get(name) ?? [],
    has: (name) => values.has(name) || bools.has(name),
  };
}
