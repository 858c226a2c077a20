/** TEST SUPPORT: which tables and columns a migration leaves in the public schema, to check its down undoes its up. */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { sql } from "kysely";
import type { Db } from "../orchestrator/db/connect";
import { createTestDatabase, type TestDatabase } from "./test-db";

/** The columns among `names` that exist (in `table`, or in any table when none is named), sorted. */
export async function columnsPresent(db: Db, table: string | undefined, names: string[]): Promise<string[]> {
  const inTable = table === undefined ? sql`` : sql`and table_name = ${table}`;
  const { rows } = await sql<{ name: string }>`select column_name as name from information_schema.columns
    where table_schema = 'public' ${inTable} and column_name in (${sql.join(names)})`.execute(db);
  return rows.map((r) => r.name).sort();
}

/** The tables among `names` that exist, sorted. */
export async function tablesPresent(db: Db, names: string[]): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select table_name as name from information_schema.tables
    where table_schema = 'public' and table_name in (${sql.join(names)})`.execute(db);
  return rows.map((r) => r.name).sort();
}

/**
 * `describe(title)` with one test `behaviour`: on a freshly migrated database `present` lists `expected`, after
 * the migration's `down` nothing, after its `up` again `expected`.
 */
export function describeDownAndUp(
  title: string,
  behaviour: string,
  migration: { up(db: Db): Promise<void>; down(db: Db): Promise<void> },
  present: (db: Db) => Promise<string[]>,
  expected: string[],
): void {
  describe(title, () => {
    let t: TestDatabase;
    beforeAll(async () => void (t = await createTestDatabase()));
    afterAll(() => t.drop());

    it(behaviour, async () => {
      expect(await present(t.db)).toEqual(expected);
      await migration.down(t.db);
      expect(await present(t.db)).toEqual([]);
      await migration.up(t.db);
      expect(await present(t.db)).toEqual(expected);
    });
  });
}
