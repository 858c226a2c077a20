import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { sql } from "kysely";
import { createTestDatabase, type TestDatabase } from "../../../testing/test-db";
import { down, up } from "./0011-task-files";

const present = async (t: TestDatabase) =>
  (await sql`select 1 from information_schema.tables where table_name = 'task_files'`.execute(t.db)).rows.length;

describe("migration 0011-task-files", () => {
  let t: TestDatabase;
  beforeAll(async () => void (t = await createTestDatabase()));
  afterAll(() => t.drop());

  it("down removes the table and up makes it again", async () => {
    await down(t.db);
    expect(await present(t)).toBe(0);
    await up(t.db);
    expect(await present(t)).toBe(1);
  });
});
