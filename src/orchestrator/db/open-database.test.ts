import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { memoryLogger } from "../../lib/log";
import { createTestDatabase, withDatabase, type TestDatabase } from "../../testing/test-db";
import { migrateOnly, openDatabase } from "./open-database";

describe("openDatabase with DATABASE_URL", () => {
  let t: TestDatabase;
  beforeAll(async () => void (t = await createTestDatabase()));
  afterAll(() => t.drop());

  it("migrates an existing database and leaves it usable", async () => {
    await migrateOnly({ databaseUrl: t.url, stateDir: "/nonexistent", log: memoryLogger() });
    const { db, close } = await openDatabase({ databaseUrl: t.url, stateDir: "/nonexistent", log: memoryLogger() });
    expect(await db.selectFrom("users").selectAll().execute()).toEqual([]);
    await close();
  });

  it("fails clearly when the database cannot be reached, and releases its connections", async () => {
    const missing = withDatabase(t.url, "cynode_does_not_exist");
    await expect(openDatabase({ databaseUrl: missing, stateDir: "/nonexistent", log: memoryLogger() })).rejects.toThrow(
      "cynode_does_not_exist",
    );
  });
});
