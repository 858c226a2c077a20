/**
 * What a cynork command is and what its run gets. A command is one citty-shaped declaration (meta, args,
 * sub-commands: what help and completion read) whose run receives its flags, parsed once and strictly, and the
 * context: the resolved config and token, a gateway client, and printing through `render`.
 */
import type { ArgsDef } from "citty";
import { readFileSync } from "node:fs";
import { fetchWithCa } from "../lib/tls-fetch";
import { VERSION } from "../lib/version";
import { type ConfigFile, DEFAULT_GATEWAY_URL, type LoadedConfig, saveConfig } from "./config-file";
import { CliError, EXIT, usageError } from "./errors";
import type { FlagName, Globals, ParsedFlags } from "./flags";
import { createGatewayClient, type GatewayClient } from "./gateway-client";
import type { CliIo } from "./io";
import { render, type TableSpec } from "./render";

/** A sub-command: declared in place (a group) or loaded from its own file when it is named. */
export type CommandEntry = CynorkCommand | (() => Promise<CynorkCommand>);

export type CynorkCommand<A extends ArgsDef = ArgsDef> = {
  meta: { name: string; description: string; version?: string };
  args?: A;
  /** Flags that may be given again, every value kept in order. */
  repeatable?: readonly FlagName<A, "string">[];
  /** The last positional takes every further argument. */
  restPositionals?: boolean;
  subCommands?: Record<string, CommandEntry>;
  run?(flags: ParsedFlags<A>, ctx: Ctx): Promise<void> | void;
};

/**
 * Declares a command. `args` types the flag names its own run may read; the tree holds every command alike, so
 * that typing stops here (ParsedFlags is the same object whatever names it is typed with).
 */
export const defineCynorkCommand = <const A extends ArgsDef>(cmd: CynorkCommand<A>) => cmd as unknown as CynorkCommand;

export const loadCommand = async (entry: CommandEntry) => (typeof entry === "function" ? entry() : entry);

export type Found = { cmd: CynorkCommand; names: string[]; rest: string[] };

/** Follows sub-command names from the front of `argv`; a flag or unknown name where a sub-command belongs is a usage error. */
export async function findCommand(root: CynorkCommand, argv: readonly string[]): Promise<Found> {
  let cmd: CynorkCommand = root;
  const names = [root.meta.name];
  let i = 0;
  for (; cmd.subCommands && i < argv.length; i++) {
    const next = argv[i]!;
    if (next.startsWith("-")) throw usageError(`unknown flag: ${next.split("=")[0]} for "${names.join(" ")}"`);
    const entry = Object.hasOwn(cmd.subCommands, next) ? cmd.subCommands[next] : undefined;
    if (!entry) throw usageError(`unknown command "${next}" for "${names.join(" ")}"`);
    cmd = await loadCommand(entry);
    names.push(next);
  }
  return { cmd, names, rest: argv.slice(i) };
}

export type Ctx = {
  io: CliIo;
  globals: Globals;
  version: string;
  config: LoadedConfig;
  gatewayUrl: string;
  /** The whole command tree (completion lists it). */
  root: CynorkCommand;
  print(value: Record<string, unknown>, spec: TableSpec): void;
  /** A message for the person at the terminal (stderr), silenced by `-q`. */
  info(message: string): void;
  /** Client for calls that need no token. */
  client(): GatewayClient;
  /** Client with the access token; exits 3 when there is none. */
  authedClient(): GatewayClient;
  /** Updates token keys in the config file; the env token is never written. */
  saveTokens(changes: Partial<Record<keyof ConfigFile, string | undefined>>): Promise<void>;
};

/** The gateway's fetch: trusting only the PEM CA in `caFile` when one is named (read when first needed). */
function fetchTrusting(doFetch: typeof fetch, caFile: string | undefined): () => typeof fetch {
  return () => {
    if (!caFile) return doFetch;
    let ca: string;
    try {
      ca = readFileSync(caFile, "utf8");
    } catch (err) {
      throw usageError(`cannot read CA file ${caFile}: ${(err as Error).message}`);
    }
    return fetchWithCa(doFetch, ca);
  };
}

export function createContext(io: CliIo, globals: Globals, config: LoadedConfig, root: CynorkCommand): Ctx {
  const envToken = io.env.CYNORK_TOKEN || undefined;
  const gatewayFetch = fetchTrusting(io.fetch, globals.caFile ?? config.file.ca_file);
  const ctx: Ctx = {
    io,
    globals,
    version: VERSION,
    config,
    gatewayUrl: io.env.CYNORK_GATEWAY_URL || config.file.gateway_url || DEFAULT_GATEWAY_URL,
    root,
    print(value, spec) {
      const out = render(value, globals.output, spec);
      if (out.stdout) io.stdout.write(out.stdout);
      if (out.stderr) io.stderr.write(out.stderr);
    },
    info(message) {
      if (!globals.quiet) io.stderr.write(`${message}\n`);
    },
    client: () =>
      createGatewayClient({ baseUrl: ctx.gatewayUrl, fetch: gatewayFetch(), userAgent: `cynork/${VERSION}` }),
    authedClient() {
      const token = envToken ?? ctx.config.file.token;
      if (!token) throw new CliError(EXIT.auth, "not logged in: run 'cynork auth login'");
      return createGatewayClient({
        baseUrl: ctx.gatewayUrl,
        fetch: gatewayFetch(),
        userAgent: `cynork/${VERSION}`,
        token,
        // Only a stored token is refreshed: an env token would win again on the next run anyway.
        refreshToken: envToken ? undefined : ctx.config.file.refresh_token,
        onRefreshed: (t) => ctx.saveTokens({ token: t.access_token, refresh_token: t.refresh_token }),
      });
    },
    async saveTokens(changes) {
      ctx.config = await saveConfig(ctx.config, changes);
    },
  };
  return ctx;
}
