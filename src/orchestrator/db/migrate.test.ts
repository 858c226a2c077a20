import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { sql } from "kysely";
import { createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { migrateToLatest } from "./migrate";

describe("migrations", () => {
  let t: TestDatabase;
  beforeAll(async () => void (t = await createTestDatabase()));
  afterAll(() => t.drop());

  it("creates every table of the contract", async () => {
    const rows = await sql<{
      table_name: string;
    }>`select table_name from information_schema.tables where table_schema = 'public'`.execute(t.db);
    const names = rows.rows.map((r) => r.table_name);
    for (const table of [
      "users",
      "password_credentials",
      "refresh_sessions",
      "auth_audit_log",
      "projects",
      "tasks",
      "jobs",
      "nodes",
      "node_capabilities",
      "task_artifacts",
    ])
      expect(names).toContain(table);
  });

  it("is idempotent: a second run applies nothing", async () => {
    expect(await migrateToLatest(t.db)).toEqual([]);
  });
});
