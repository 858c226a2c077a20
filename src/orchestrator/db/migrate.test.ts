import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { sql } from "kysely";
import { createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { MIGRATIONS, migrateToLatest } from "./migrate";
import * as revokedSessions from "./migrations/0004-revoked-sessions";

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
      "revoked_sessions",
    ])
      expect(names).toContain(table);
  });

  it("0004 can be undone and redone", async () => {
    const exists = async () =>
      (await sql<{ r: string | null }>`select to_regclass('revoked_sessions')::text as r`.execute(t.db)).rows[0]?.r;
    await revokedSessions.down(t.db);
    expect(await exists()).toBeNull();
    await revokedSessions.up(t.db);
    expect(await exists()).toBe("revoked_sessions");
  });

  it("0009 adds the jobs' step lines, and its down removes them", async () => {
    const column = async () =>
      (
        await sql<{ n: string }>`select count(*) as n from information_schema.columns
          where table_name = 'jobs' and column_name = 'progress'`.execute(t.db)
      ).rows[0]?.n;
    expect(await column()).toBe("1");
    await MIGRATIONS["0009-job-progress"]!.down!(t.db);
    expect(await column()).toBe("0");
    await MIGRATIONS["0009-job-progress"]!.up(t.db);
    expect(await column()).toBe("1");
  });

  it("is idempotent: a second run applies nothing", async () => {
    expect(await migrateToLatest(t.db)).toEqual([]);
  });

  it("0006 installs the task-ended trigger, and its down removes it", async () => {
    const triggers = async () =>
      (await sql<{ tgname: string }>`select tgname from pg_trigger where tgname = 'tasks_notify_ended'`.execute(t.db))
        .rows.length;
    expect(await triggers()).toBe(1);
    await MIGRATIONS["0006-task-ended-notify"]!.down!(t.db);
    expect(await triggers()).toBe(0);
    await MIGRATIONS["0006-task-ended-notify"]!.up(t.db);
    expect(await triggers()).toBe(1);
  });
});
