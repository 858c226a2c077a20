import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { columnsPresent, tablesPresent } from "../../../testing/schema-present";
import { insertTaskWithJob } from "../../../testing/queued-job";
import { createTestDatabase, type TestDatabase } from "../../../testing/test-db";
import { createUserWithPassword } from "../users";
import { down, up } from "./0007-fair-dispatch";

const present = async (t: TestDatabase) => [
  ...(await columnsPresent(t.db, "jobs", ["owner_id"])),
  ...(await tablesPresent(t.db, ["dispatch_turns"])),
];

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
