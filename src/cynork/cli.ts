/**
 * `runCli(argv, io)`: the whole CLI as a function returning the exit code. Order: global flags, config file
 * (invalid → 2 before any command), command lookup, then the command, which validates usage before it needs a token.
 */
import { renderUsage, runCommand } from "citty";
import { findCommand } from "./command-tree";
import { rootCommand } from "./commands/root";
import { configPath, loadConfig } from "./config-file";
import { createContext } from "./context";
import { CliError, EXIT } from "./errors";
import { GLOBAL_ARGS, extractGlobals } from "./globals";
import type { CliIo } from "./io";

const ANSI = /\u001b\[[0-9;]*m/g;
const GLOBAL_HELP = `GLOBAL OPTIONS  ${Object.entries(GLOBAL_ARGS)
  .map(([name, def]) => ("alias" in def ? `-${def.alias}, --${name}` : `--${name}`))
  .join("  ")}\n`;

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let plain = Boolean(io.env.NO_COLOR) || !io.stdout.isTTY;
  try {
    const { globals, rest: given } = extractGlobals(argv);
    // `cynork --version` answers like every other executable: it is `cynork version`.
    const rest = given.length === 1 && given[0] === "--version" ? ["version"] : given;
    plain ||= globals.noColor;
    const config = await loadConfig(configPath(globals.config, io.env, io.home));
    const root = rootCommand(createContext(io, globals, config));
    const found = await findCommand(root, rest);
    if (globals.help || !found.cmd.run) {
      const parent = { meta: { name: found.names.slice(0, -1).join(" "), version: undefined } };
      const nested = found.names.length > 1;
      const usage = `${await renderUsage(found.cmd, nested ? parent : undefined)}\n${nested ? GLOBAL_HELP : ""}`;
      const text = plain ? usage.replace(ANSI, "") : usage;
      if (globals.help) {
        io.stdout.write(text);
        return EXIT.ok;
      }
      io.stderr.write(text);
      throw new CliError(EXIT.usage, `missing command for "${found.names.join(" ")}"`);
    }
    await runCommand(found.cmd, { rawArgs: found.rest });
    return EXIT.ok;
  } catch (err) {
    const e = err as Error;
    const known = err instanceof CliError;
    // citty's own argument errors (e.g. a missing positional) are usage errors too.
    const code = known ? err.exitCode : e?.name === "CLIError" ? EXIT.usage : EXIT.internal;
    const message =
      code === EXIT.internal ? `internal error: ${e?.message ?? String(err)}` : e.message.replace(ANSI, "");
    io.stderr.write(`Error: ${message}\n`);
    return code;
  }
}
