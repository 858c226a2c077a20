/**
 * `runCli(argv, io)`: the whole CLI as a function returning the exit code. Order: global flags, config file
 * (invalid → 2 before any command), command lookup, then the command's flags, parsed once, and its run, which
 * validates usage before it needs a token.
 */
import { type CommandDef, renderUsage } from "citty";
import { createContext, type Found, findCommand } from "./command";
import { ROOT } from "./command-tree";
import { configPath, loadConfig } from "./config-file";
import { CliError, EXIT } from "./errors";
import { GLOBAL_ARGS, extractGlobals, parseFlags } from "./flags";
import type { CliIo } from "./io";

const ANSI = /\u001b\[[0-9;]*m/g;
const GLOBAL_HELP = `GLOBAL OPTIONS  ${Object.entries(GLOBAL_ARGS)
  .map(([name, def]) => ("alias" in def ? `-${def.alias}, --${name}` : `--${name}`))
  .join("  ")}\n`;

/** citty's usage text for the command found; a nested one names its parents and lists the global flags. */
async function usage(found: Found, plain: boolean): Promise<string> {
  const parent = { meta: { name: found.names.slice(0, -1).join(" "), version: undefined } };
  const nested = found.names.length > 1;
  // renderUsage reads only meta, args and sub-commands, which a CynorkCommand declares as citty does.
  const text = await renderUsage(found.cmd as unknown as CommandDef, nested ? parent : undefined);
  const full = `${text}\n${nested ? GLOBAL_HELP : ""}`;
  return plain ? full.replace(ANSI, "") : full;
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let plain = Boolean(io.env.NO_COLOR) || !io.stdout.isTTY;
  try {
    const { globals, rest: given } = extractGlobals(argv);
    // `cynork --version` answers like every other executable: it is `cynork version`.
    const rest = given.length === 1 && given[0] === "--version" ? ["version"] : given;
    plain ||= globals.noColor;
    const config = await loadConfig(configPath(globals.config, io.env, io.home));
    const found = await findCommand(ROOT, rest);
    const { cmd } = found;
    if (globals.help || !cmd.run) {
      const text = await usage(found, plain);
      if (globals.help) {
        io.stdout.write(text);
        return EXIT.ok;
      }
      io.stderr.write(text);
      throw new CliError(EXIT.usage, `missing command for "${found.names.join(" ")}"`);
    }
    await cmd.run(
      parseFlags(found.rest, cmd.args ?? {}, cmd.repeatable, cmd.restPositionals),
      createContext(io, globals, config, ROOT),
    );
    return EXIT.ok;
  } catch (err) {
    const e = err as Error;
    const code = err instanceof CliError ? err.exitCode : EXIT.internal;
    const message =
      code === EXIT.internal ? `internal error: ${e?.message ?? String(err)}` : e.message.replace(ANSI, "");
    io.stderr.write(`Error: ${message}\n`);
    return code;
  }
}
