/**
 * Opens a kysely handle over postgres.js for a connection URL. Every call is bounded in time (connecting, then the
 * statement), and a database that is down answers DatabaseUnavailableError at once: callers never hang on an
 * outage, and postgres.js reconnects by itself when the server is back (ARCHITECTURE decision 15).
 */
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
} from "kysely";
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
      fail(new DatabaseUnavailableError(new Error(`${what} took longer than ${ms} ms`), true));
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

/** One pool: a postgres.js instance and the kysely driver over it. */
type Pool = { sql: postgres.Sql; driver: Driver; ready: Promise<void> };

/**
 * The driver kysely sees. A statement or connection that times out may sit on a socket that will never answer
 * (a server killed mid-start): the whole pool is then replaced by a fresh one and the old one closed at once, so
 * no later call is handed that socket again. Connections that failed get no more statements, not even a rollback
 * (the server rolls back a lost connection's transaction by itself).
 */
function boundedDriver(newPool: () => Pool): Driver {
  let current = newPool();
  const owner = new WeakMap<DatabaseConnection, Pool>();
  const failed = new WeakSet<DatabaseConnection>();
  const retire = (pool: Pool) => {
    if (pool !== current) return;
    current = newPool();
    void pool.sql.end({ timeout: 0 }).catch(() => {});
  };
  const onFailure = (pool: Pool, err: unknown) => {
    if (err instanceof DatabaseUnavailableError && err.timedOut) retire(pool);
  };
  const guard = (conn: DatabaseConnection, pool: Pool): DatabaseConnection => {
    owner.set(conn, pool);
    const execute = conn.executeQuery.bind(conn);
    conn.executeQuery = <R>(query: CompiledQuery) =>
      bounded(execute<R>(query), DB_QUERY_TIMEOUT_MS, "database statement").catch((err: unknown): never => {
        if (err instanceof DatabaseUnavailableError) failed.add(conn);
        onFailure(pool, err);
        throw err;
      });
    return conn;
  };
  const driverOf = (c: DatabaseConnection) => (owner.get(c) ?? current).driver;
  return {
    init: () => current.ready,
    acquireConnection: async (o) => {
      const pool = current;
      await pool.ready;
      const acquiring = pool.driver.acquireConnection(o);
      // A connection that arrives after its caller gave up goes back to its pool instead of leaking.
      const late = (c: DatabaseConnection) => void pool.driver.releaseConnection(c).catch(() => {});
      try {
        return guard(await bounded(acquiring, DB_ACQUIRE_TIMEOUT_MS, "database connection", late), pool);
      } catch (err) {
        onFailure(pool, err);
        throw err;
      }
    },
    beginTransaction: (c, s) => driverOf(c).beginTransaction(c, s),
    commitTransaction: (c) => driverOf(c).commitTransaction(c),
    rollbackTransaction: async (c) => {
      if (failed.has(c)) throw new DatabaseUnavailableError(new Error("rollback skipped on a failed connection"));
      await driverOf(c).rollbackTransaction(c);
    },
    releaseConnection: (c, o) =>
      driverOf(c)
        .releaseConnection(c, o)
        .catch(() => {}),
    destroy: () =>
      bounded(current.sql.end({ timeout: DB_CLOSE_TIMEOUT_MS / 1000 }), DB_CLOSE_TIMEOUT_MS, "closing the pool").catch(
        () => {},
      ),
  };
}

/**
 * postgres.js on Bun can throw from a scheduled socket write (`nextWrite`) after the server closed the socket: a
 * lost connection, which the pool replaces on the next query, never a reason to stop the orchestrator. `main.ts`
 * ignores these in its `uncaughtException` hook; any other uncaught exception still ends the process.
 */
export function isLostSocketWrite(err: unknown): boolean {
  return err instanceof TypeError && /\bnextWrite\b/.test(err.stack ?? "") && /write/.test(err.message);
}

/** The URL without its `host=` parameter, which postgres.js takes as an option instead. */
export const urlWithoutHost = (url: string) => url.replace(/([?&])host=[^&]*&?/, "$1").replace(/[?&]$/, "");

/** A postgres.js client for a URL (the `host` query parameter moved into the options). */
export function postgresClient(url: string, max = 10): postgres.Sql {
  return postgres(urlWithoutHost(url), { ...connectionOptions(url), max });
}

export function connect(url: string): Db {
  const clean = urlWithoutHost(url);
  const newPool = (): Pool => {
    const sql = postgres(clean, connectionOptions(url));
    const driver = new PostgresJSDialect({ postgres: sql }).createDriver();
    const ready = driver.init();
    ready.catch(() => {});
    return { sql, driver, ready };
  };
  const boundedDialect: Dialect = {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => boundedDriver(newPool),
    createQueryCompiler: () => new PostgresQueryCompiler(),
    createIntrospector: (db) => new PostgresIntrospector(db),
  };
  return new Kysely<Database>({ dialect: boundedDialect });
}
