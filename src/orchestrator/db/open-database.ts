/** The orchestrator's database: `DATABASE_URL` when given, else the embedded server in the state dir; migrated. */
import { join } from "node:path";
import postgres from "postgres";
import type { Logger } from "../../lib/log";
import { connect, connectionOptions, type Db } from "./connect";
import { startEmbeddedPostgres } from "./embedded-postgres";
import { migrateToLatest } from "./migrate";

export const EMBEDDED_DATABASE = "cynode";

async function createEmbeddedDatabase(admin: string): Promise<void> {
  const sql = postgres(admin.split("?")[0]!, { ...connectionOptions(admin), max: 1 });
  try {
    const exists = await sql`select 1 from pg_database where datname = ${EMBEDDED_DATABASE}`;
    if (!exists.length) await sql.unsafe(`CREATE DATABASE ${EMBEDDED_DATABASE}`);
  } finally {
    await sql.end({ timeout: 2 });
  }
}

export async function openDatabase(opts: {
  databaseUrl?: string;
  stateDir: string;
  log: Logger;
}): Promise<{ db: Db; url: string; close(): Promise<void> }> {
  let url = opts.databaseUrl;
  let stopServer = async () => {};
  if (!url) {
    const server = await startEmbeddedPostgres({ stateDir: join(opts.stateDir), log: opts.log });
    stopServer = server.stop;
    try {
      await createEmbeddedDatabase(server.url("postgres"));
    } catch (err) {
      await stopServer(); // never leave a server behind that no one owns
      throw err;
    }
    url = server.url(EMBEDDED_DATABASE);
  }
  const db = connect(url);
  try {
    const applied = await migrateToLatest(db);
    if (applied.length) opts.log.info("database migrated", { applied });
  } catch (err) {
    await db.destroy();
    await stopServer();
    throw err;
  }
  return {
    db,
    url,
    async close() {
      await db.destroy();
      await stopServer();
    },
  };
}

export async function migrateOnly(opts: { databaseUrl?: string; stateDir: string; log: Logger }): Promise<void> {
  const { close } = await openDatabase(opts);
  await close();
}
