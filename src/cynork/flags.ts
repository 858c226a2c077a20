/**
 * cynork's one flag parser. It reads citty `args` blocks, the single declaration of a command's flags, and behaves
 * like the reference's pflag (unknown flag → usage error, `--command` repeatable, `--no-x`, `-x=v`), which citty's
 * own non-strict parse does not. Global flags (reference-contracts 7.2) are taken out of the whole argv first.
 */
import type { ArgDef, ArgsDef } from "citty";
import { type CliError, usageError } from "./errors";

export const GLOBAL_ARGS = {
  config: { type: "string", alias: "c", description: "config file (default $XDG_CONFIG_HOME/cynork/config.yaml)" },
  output: { type: "string", alias: "o", description: "output format: table or json", default: "table" },
  "ca-file": { type: "string", description: "PEM CA that signed the gateway's certificate (default: system roots)" },
  quiet: { type: "boolean", alias: "q", description: "no progress or informational messages" },
  "no-color": { type: "boolean", description: "never colour output" },
  help: { type: "boolean", alias: "h", description: "show help" },
} as const satisfies ArgsDef;

export type OutputFormat = "table" | "json";
export type Globals = {
  config?: string;
  caFile?: string;
  output: OutputFormat;
  quiet: boolean;
  noColor: boolean;
  help: boolean;
};

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

/** Pulls the global flags out of argv, wherever they stand before `--`; the rest keeps its order. */
export function extractGlobals(argv: readonly string[]): { globals: Globals; rest: string[] } {
  const globals: Globals = { output: "table", quiet: false, noColor: false, help: false };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    const m = token.startsWith("-") ? matchFlag(token, GLOBAL_ARGS) : undefined;
    if (!m) {
      rest.push(token);
      continue;
    }
    if (m.name === "quiet" || m.name === "no-color" || m.name === "help") {
      const on = m.inline === undefined ? !m.negated : m.inline === "true";
      if (m.name === "quiet") globals.quiet = on;
      else if (m.name === "no-color") globals.noColor = on;
      else globals.help = on;
      continue;
    }
    const value = m.inline ?? argv[++i];
    if (value === undefined) throw usageError(`flag needs an argument: ${token}`);
    if (m.name === "config") globals.config = value;
    else if (m.name === "ca-file") globals.caFile = value;
    else if (value === "table" || value === "json") globals.output = value;
    else throw usageError("output must be table or json");
  }
  return { globals, rest };
}

/** The names of the flags in `A` declared with type `T` (any name for an args block not known in detail). */
export type FlagName<A extends ArgsDef, T extends ArgDef["type"] = "string" | "boolean"> = string extends keyof A
  ? string
  : { [K in keyof A]: A[K] extends { type: T } ? K : never }[keyof A] & string;

export type ParsedFlags<A extends ArgsDef = ArgsDef> = {
  /** The positional arguments in order; every declared one is there (a missing one is a usage error). */
  positionals: string[];
  string(name: FlagName<A, "string">): string | undefined;
  bool(name: FlagName<A, "boolean">): boolean;
  list(name: FlagName<A, "string">): string[];
  has(name: FlagName<A>): boolean;
};

const takesValue = (def: ArgDef) => def.type === "string" || def.type === "enum";

/**
 * Parses a command's own argv (after its name) against its args block. Flags in `repeatable` collect every
 * occurrence in order; others keep the last. Usage errors, in the order they are reported: a missing positional
 * (counted as if unknown flags took no value), the first unknown flag, missing value or bad boolean, extra
 * positionals, an empty positional.
 */
export function parseFlags<const A extends ArgsDef>(
  rawArgs: readonly string[],
  args: A,
  repeatable: readonly string[] = [],
  /** The last positional takes every further argument (`task artifacts get <task> [name…]`). */
  restPositionals = false,
): ParsedFlags<A> {
  const values = new Map<string, string[]>();
  const bools = new Map<string, boolean>();
  const positionals: string[] = [];
  let mistake: CliError | undefined;
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
    if (!m) mistake ??= usageError(`unknown flag: ${token.split("=")[0]}`);
    else if (!takesValue(m.def)) {
      if (m.inline === undefined || m.inline === "true" || m.inline === "false")
        bools.set(m.name, ((m.inline ?? "true") === "true") !== m.negated);
      else mistake ??= usageError(`invalid argument "${m.inline}" for "${token.split("=")[0]}" flag`);
    } else {
      const value = m.inline ?? rawArgs[++i];
      if (value === undefined) mistake ??= usageError(`flag needs an argument: ${token}`);
      else values.set(m.name, [...(repeatable.includes(m.name) ? (values.get(m.name) ?? []) : []), value]);
    }
  }
  checkPositionals(args, positionals, mistake, restPositionals);
  return {
    positionals,
    string: (name) => values.get(name)?.at(-1) ?? (args[name]?.default as string | undefined),
    bool: (name) => bools.get(name) ?? args[name]?.default === true,
    list: (name) => values.get(name) ?? [],
    has: (name) => values.has(name) || bools.has(name),
  };
}

function checkPositionals(
  args: ArgsDef,
  positionals: readonly string[],
  mistake: CliError | undefined,
  rest: boolean,
): void {
  const wanted = Object.keys(args).filter((name) => args[name]!.type === "positional");
  // Required unless declared `required: false` or given a default, as citty has it.
  const missing = wanted
    .slice(positionals.length)
    .find((n) => args[n]!.required !== false && args[n]!.default === undefined);
  if (missing !== undefined) throw usageError(`Missing required positional argument: ${missing.toUpperCase()}`);
  if (mistake) throw mistake;
  if (!rest && positionals.length > wanted.length)
    throw usageError(`accepts ${wanted.length} arg(s), received ${positionals.length}`);
  const empty = positionals.indexOf("");
  if (empty >= 0) throw usageError(`${wanted[empty]!.toUpperCase()} must not be empty`);
}
