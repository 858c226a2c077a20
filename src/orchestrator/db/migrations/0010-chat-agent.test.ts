import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { sql } from "kysely";
import { createTestDatabase, type TestDatabase } from "../../../testing/test-db";
import { down, up } from "./0010-chat-agent";

const TABLES = [
  "chat_messages",
  "chat_threads",
  "chat_tool_calls",
  "skills",
  "task_workflow_leases",
  "workflow_checkpoints",
];

const tables = async (t: TestDatabase) =>
  (
    await sql<{ table_name: string }>`select table_name from information_schema.tables
      where table_schema = 'public' and table_name in (${sql.join(TABLES)})`.execute(t.db)
  ).rows
    .map((r) => r.table_name)
    .sort();

describe("migration 0010-chat-agent", () => {
  let t: TestDatabase;
  beforeAll(async () => void (t = await createTestDatabase()));
  afterAll(() => t.drop());

  it("creates the chat agent's tables, and down removes them again", async () => {
    expect(await tables(t)).toEqual(TABLES);
    await down(t.db);
    expect(await tables(t)).toEqual([]);
    await up(t.db);
    expect(await tables(t)).toEqual(TABLES);
  });
});
