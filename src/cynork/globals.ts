/** Global flags (reference-contracts 7.2), accepted anywhere before `--`, pulled out before command dispatch. */
import type { ArgsDef } from "citty";
import { usageError } from "./errors";
import { matchFlag } from "./flags";

export const GLOBAL_ARGS = {
  config: { type: "string", alias: "c", description: "config file (default $XDG_CONFIG_HOME/cynork/config.yaml)" },
  output: { type: "string", alias: "o", description: "output format: table or json", default: "table" },
  quiet: { type: "boolean", alias: "q", description: "no progress or informational messages" },
  "no-color": { type: "boolean", description: "never colour output" },
  help: { type: "boolean", alias: "h", description: "show help" },
} as const satisfies ArgsDef;

export type OutputFormat = "table" | "json";
export type Globals = { config?: string; output: OutputFormat; quiet: boolean; noColor: boolean; help: boolean };

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
    else if (value === "table" || value === "json") globals.output = value;
    else throw usageError("output must be table or json");
  }
  return { globals, rest };
}
