/**
 * Opens a kysely handle over postgres.js for a connection URL. Every call is bounded in time (connecting, then the
 * statement), and a database that is down answers DatabaseUnavailableError at once: callers never hang on an
 * outage, and postgres.js reconnects by itself when the server is back (ARCHITECTURE decision 15).
 */
import { type DatabaseConnection, type Dialect, type Driver, Kysely } from "kysely";
import { PostgresJSDialect } from "kysely-postgres-js";
import postgres from "postgres";
import type { Database } from "./schema";
import { DatabaseUnavailableError, isConnectionFailure } from "./unavailable";

export type Db = Kysely<Database>;

/** Bound on getting a connection (postgres.js' own connect timeout is below it). */
export const DB_ACQUIRE_TIMEOUT_MS = 3_000;
/** Bound on one statement, measured by the client: a server that stopped answering cannot hold a request. */
export const DB_QUERY_TIMEOUT_MS = 5_000;
/** Bound on closing the pool at shutdown. */
export const DB_CLOSE_TIMEOUT_MS = 2_000;

/** postgres.js options for a URL; a libpq-style `?host=/socket/dir` selects a Unix socket. */
export function connectionOptions(url: string): postgres.Options<{}> {
  const socketDir = new URL(url).searchParams.get("host");
  return {
    max: 10,
    onnotice: () => {},
    connect_timeout: 2,
    ...(socketDir?.startsWith("/") ? { host: socketDir } : {}),
  };
}

/** `work` within `ms`, connection failures as DatabaseUnavailableError; `onLate` gets a value that came too late. */
export async function bounded<T>(work: Promise<T>, ms: number, what: string, onLate?: (v: T) => void): Promise<T> {
  let timer: Timer | undefined;
  let late = false;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => {
      late = true;
      fail(new DatabaseUnavailableError(new Error(`${what} took longer than ${ms} ms`)));
    }, ms);
  });
  work.then((v) => late && onLate?.(v)).catch(() => {});
  try {
    return await Promise.race([work, timeout]);
  } catch (err) {
    throw isConnectionFailure(err)
      ? err instanceof DatabaseUnavailableError
        ? err
        : new DatabaseUnavailableError(err)
      : err;
  } finally {
    clearTimeout(timer);
  }
}

function boundedDriver(inner: Driver): Driver {
  const guard = (conn: DatabaseConnection): DatabaseConnection => {
    const execute = conn.executeQuery.bind(conn);
    conn.executeQuery = (query) => bounded(execute(query), DB_QUERY_TIMEOUT_MS, "database statement");
    return conn;
  };
  return {
    init: (o) => inner.init(o),
    acquireConnection: async (o) => {
      const acquiring = inner.acquireConnection(o);
      // A connection that arrives after its caller gave up goes back to the pool instead of leaking.
      const late = (c: DatabaseConnection) => void inner.releaseConnection(c).catch(() => {});
      return guard(await bounded(acquiring, DB_ACQUIRE_TIMEOUT_MS, "database connection", late));
    },
    beginTransaction: (c, s) => inner.beginTransaction(c, s),
    commitTransaction: (c) => inner.commitTransaction(c),
    rollbackTransaction: (c) => inner.rollbackTransaction(c),
    releaseConnection: (c, o) => inner.releaseConnection(c, o),
    destroy: (o) => bounded(inner.destroy(o), DB_CLOSE_TIMEOUT_MS, "closing the database pool").catch(() => {}),
  };
}

export function connect(url: string): Db {
  const clean = url.replace(/([?&])host=[^&]*&?/, "$1").replace(/[?&]$/, "");
  const dialect = new PostgresJSDialect({ postgres: postgres(clean, connectionOptions(url)) });
  const boundedDialect: Dialect = {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => boundedDriver(dialect.createDriver()),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
  };
  return new Kysely<Database>({ dialect: boundedDialect });
}
