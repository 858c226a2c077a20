/** Walking the citty command tree: finding the command an argv names, and listing every command (completion). */
import type { ArgsDef, CommandDef, Resolvable } from "citty";
import { usageError } from "./errors";

type Cmd = CommandDef<any>;

async function resolved<T>(value: Resolvable<T>): Promise<T> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

export type Found = { cmd: Cmd; names: string[]; rest: string[] };

/** Follows sub-command names from the front of `argv`; a flag or unknown name where a sub-command belongs is a usage error. */
export async function findCommand(root: Cmd, argv: readonly string[]): Promise<Found> {
  let cmd = root;
  const names = [String((await resolved(root.meta ?? {})).name)];
  let i = 0;
  for (;;) {
    const subs = cmd.subCommands ? await resolved(cmd.subCommands) : undefined;
    const next = argv[i];
    if (!subs || next === undefined) break;
    if (next.startsWith("-")) throw usageError(`unknown flag: ${next.split("=")[0]} for "${names.join(" ")}"`);
    if (!(next in subs)) throw usageError(`unknown command "${next}" for "${names.join(" ")}"`);
    cmd = await resolved(subs[next]!);
    names.push(next);
    i++;
  }
  return { cmd, names, rest: argv.slice(i) };
}

export type CommandInfo = { path: string[]; subCommands: string[]; flags: { long: string[]; short: string[] }[] };

/** Every command under `cmd`, depth first, with its sub-command names and flags. */
export async function listCommands(cmd: Cmd, path: string[] = []): Promise<CommandInfo[]> {
  const subs = cmd.subCommands ? await resolved(cmd.subCommands) : {};
  const args: ArgsDef = cmd.args ? await resolved(cmd.args) : {};
  const flags = Object.entries(args)
    .filter(([, d]) => d.type !== "positional")
    .map(([name, d]) => {
      const aliases = "alias" in d && d.alias !== undefined ? [d.alias].flat() : [];
      return { long: [name, ...aliases.filter((a) => a.length > 1)], short: aliases.filter((a) => a.length === 1) };
    });
  const infos: CommandInfo[] = [{ path, subCommands: Object.keys(subs), flags }];
  for (const [name, sub] of Object.entries(subs))
    infos.push(...(await listCommands(await resolved(sub), [...path, name])));
  return infos;
}
