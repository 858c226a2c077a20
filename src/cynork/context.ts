/** What every command gets: the resolved config and token, a gateway client, and printing through `render`. */
import { VERSION } from "../lib/version";
import { type ConfigFile, DEFAULT_GATEWAY_URL, type LoadedConfig, saveConfig } from "./config-file";
import { CliError, EXIT } from "./errors";
import { createGatewayClient, type GatewayClient } from "./gateway-client";
import type { Globals } from "./globals";
import type { CliIo } from "./io";
import { render, type TableSpec } from "./render";

export type Ctx = {
  io: CliIo;
  globals: Globals;
  version: string;
  config: LoadedConfig;
  gatewayUrl: string;
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

export function createContext(io: CliIo, globals: Globals, config: LoadedConfig): Ctx {
  const envToken = io.env.CYNORK_TOKEN || undefined;
  const ctx: Ctx = {
    io,
    globals,
    version: VERSION,
    config,
    gatewayUrl: io.env.CYNORK_GATEWAY_URL || config.file.gateway_url || DEFAULT_GATEWAY_URL,
    print(value, spec) {
      const out = render(value, globals.output, spec);
      if (out.stdout) io.stdout.write(out.stdout);
      if (out.stderr) io.stderr.write(out.stderr);
    },
    info(message) {
      if (!globals.quiet) io.stderr.write(`${message}\n`);
    },
    client: () => createGatewayClient({ baseUrl: ctx.gatewayUrl, fetch: io.fetch, userAgent: `cynork/${VERSION}` }),
    authedClient() {
      const token = envToken ?? ctx.config.file.token;
      if (!token) throw new CliError(EXIT.auth, "not logged in: run 'cynork auth login'");
      return createGatewayClient({
        baseUrl: ctx.gatewayUrl,
        fetch: io.fetch,
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
