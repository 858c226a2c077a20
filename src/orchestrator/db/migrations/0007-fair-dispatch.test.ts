import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { sql } from "kysely";
import { insertTaskWithJob } from "../../../testing/queued-job";
import { createTestDatabase, type TestDatabase } from "../../../testing/test-db";
import { createUserWithPassword } from "../users";
import { down, up } from "./0007-fair-dispatch";

const present = async (t: TestDatabase) =>
  (
    await sql<{ name: string }>`select column_name as name from information_schema.columns
      where table_schema = 'public' and table_name = 'jobs' and column_name = 'owner_id'
      union all select table_name from information_schema.tables where table_name = 'dispatch_turns'`.execute(t.db)
  ).rows.map((r) => r.name);

describe("migration 0007-fair-dispatch", () => {
  let t: TestDatabase;
  beforeAll(async () => void (t = await createTestDatabase()));
  afterAll(() => t.drop());

  it("gives existing jobs their task's creator as owner (none: the nil uuid), and down removes it all", async () => {
    const user = await createUserWithPassword(t.db, { handle: "u", passwordHash: "x" });
    const owned = await insertTaskWithJob(t.db, undefined, user.id);
    const unowned = await insertTaskWithJob(t.db);
    await down(t.db);
    expect(await present(t)).toEqual([]);
    await up(t.db);
    expect(await present(t)).toEqual(["owner_id", "dispatch_turns"]);
    const owners = await t.db.selectFrom("jobs").select(["id", "owner_id"]).execute();
    expect(Object.fromEntries(owners.map((r) => [r.id, r.owner_id]))).toEqual({
      [owned.jobId]: user.id,
      [unowned.jobId]: "00000000-0000-0000-0000-000000000000",
    });
  });
});
