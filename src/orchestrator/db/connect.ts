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

export function connect(url: string): Db {
  const clean = url.replace(/([?&])host=[^&]*&?/, "$1").replace(/[?&]$/, "");
  return new Kysely<Database>({
    dialect: new PostgresJSDialect({ postgres: postgres(clean, connectionOptions(url)) }),
  });
}
