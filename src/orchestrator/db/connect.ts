/** Opens a kysely handle over postgres.js for a connection URL. */
import { Kysely } from "kysely";
import { PostgresJSDialect } from "kysely-postgres-js";
import postgres from "postgres";
import type { Database } from "./schema";

export type Db = Kysely<Database>;

/** postgres.js options for a URL; a libpq-style `?host=/socket/dir` selects a Unix socket. */
export function connectionOptions(url: string): postgres.Options<{}> {
  const socketDir = new URL(url).searchParams.get("host");
  return {
    max: 10,
    onnotice: () => {},
    connect_timeout: 10,
    ...(socketDir?.startsWith("/") ? { host: socketDir } : {}),
  };
}

/** The URL without its `host=` parameter, which postgres.js takes as an option instead. */
export const urlWithoutHost = (url: string) => url.replace(/([?&])host=[^&]*&?/, "$1").replace(/[?&]$/, "");

/** A postgres.js client for a URL (the `host` query parameter moved into the options). */
export function postgresClient(url: string, max = 10): postgres.Sql {
  return postgres(urlWithoutHost(url), { ...connectionOptions(url), max });
}

export function connect(url: string): Db {
  return new Kysely<Database>({ dialect: new PostgresJSDialect({ postgres: postgresClient(url) }) });
}
