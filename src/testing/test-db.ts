/**
 * Real Postgres for tests: `POSTGRES_TEST_DSN` when set, else one embedded server per test process.
 * Every caller gets its own freshly migrated database, so test files never see each other's rows.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { createLogger } from "../lib/log";
import { connect, connectionOptions, type Db } from "../orchestrator/db/connect";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../orchestrator/db/embedded-postgres";
import { migrateToLatest } from "../orchestrator/db/migrate";

let server: Promise<EmbeddedPostgres> | undefined;

async function adminUrl(): Promise<string> {
  const dsn = process.env.POSTGRES_TEST_DSN;
  if (dsn) return dsn;
  server ??= mkdtemp(join(tmpdir(), "cynode-test-pg-")).then((stateDir) =>
    startEmbeddedPostgres({ stateDir, log: createLogger({ name: "test-postgres", level: "warn" }) }),
  );
  return (await server).url("postgres");
}

/** Replaces the database name in a connection URL. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export type TestDatabase = { db: Db; url: string; drop(): Promise<void> };

export async function createTestDatabase(): Promise<TestDatabase> {
  const admin = await adminUrl();
  const name = `cynode_test_${crypto.randomUUID().replaceAll("-", "")}`;
  const sql = postgres(admin.split("?")[0]!, { ...connectionOptions(admin), max: 1 });
  await sql.unsafe(`CREATE DATABASE ${name}`);
  const url = withDatabase(admin, name);
  const db = connect(url);
  await migrateToLatest(db);
  return {
    db,
    url,
    async drop() {
      await db.destroy(); // bounded (connect.ts): a query a test left running cannot hold it up
      await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await sql.end();
    },
  };
}

export async function stopTestPostgres(): Promise<void> {
  if (server) await (await server).stop();
  server = undefined;
}
