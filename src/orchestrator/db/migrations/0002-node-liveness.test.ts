import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { sql } from "kysely";
import { createTestDatabase, type TestDatabase } from "../../../testing/test-db";
import { down, up } from "./0002-node-liveness";

const columns = async (t: TestDatabase) =>
  (
    await sql<{ column_name: string }>`select column_name from information_schema.columns
      where table_schema = 'public' and column_name in ('suspect_since', 'excluded_node_ids', 'not_before', 'lost_at')`.execute(
      t.db,
    )
  ).rows
    .map((r) => r.column_name)
    .sort();

describe("migration 0002-node-liveness", () => {
  let t: TestDatabase;
  beforeAll(async () => void (t = await createTestDatabase()));
  afterAll(() => t.drop());

  it("adds the liveness columns, and down removes them again", async () => {
    expect(await columns(t)).toEqual(["excluded_node_ids", "lost_at", "not_before", "suspect_since"]);
    await down(t.db);
    expect(await columns(t)).toEqual([]);
    await up(t.db);
    expect(await columns(t)).toEqual(["excluded_node_ids", "lost_at", "not_before", "suspect_since"]);
  });
});
