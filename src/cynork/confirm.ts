/** The `[y/N]` question a destructive command asks first unless `-y`: only `y` (either case) goes ahead. */
import type { ArgDef } from "citty";
import { usageError } from "./errors";
import type { CliIo } from "./io";

/** The `-y` (`--yes`) flag of every command that asks first. */
export const YES_ARG = {
  type: "boolean",
  alias: "y",
  description: "do not ask for confirmation",
} as const satisfies ArgDef;

/** The args of a command that asks before it acts on one thing: that thing (the positional `name`) and `-y`. */
export function confirmingArgs<const N extends string>(name: N, description: string) {
  const positional = { type: "positional", description } as const satisfies ArgDef;
  return { [name]: positional, yes: YES_ARG } as Record<N, typeof positional> & { yes: typeof YES_ARG };
}

/** Asks `question` on stderr; on any answer but `y` writes `declined` (when given) and resolves false. */
export async function confirmed(io: CliIo, question: string, declined?: string): Promise<boolean> {
  io.stderr.write(`${question} [y/N] `);
  if ((await io.stdin.readLine())?.trim().toLowerCase() === "y") return true;
  if (declined) io.stderr.write(`${declined}\n`);
  return false;
}

/**
 * Without a terminal there is no one to answer, so `-y` is required: its absence is a usage error naming what was
 * `refused`, never a silent exit 0 that did nothing.
 */
export function requireTerminal(io: CliIo, refused: string): void {
  if (!io.stdin.isTTY) throw usageError(`${refused} without confirmation: pass -y (--yes)`);
}
