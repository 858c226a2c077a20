import { afterAll, describe, expect, it } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { createTestDatabase } from "../../testing/test-db";
import { domainProblem } from "../http-errors";
import { bounded, connect, isLostSocketWrite } from "./connect";
import { DATABASE_UNAVAILABLE, DatabaseUnavailableError, isConnectionFailure } from "./unavailable";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("bounded database calls", () => {
  it("answers DatabaseUnavailableError (a 503 problem) at once when no server listens", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cynode-nopg-"));
    dirs.push(dir);
    const db = connect(`postgres://postgres@localhost:5432/none?host=${encodeURIComponent(dir)}`);
    const err = await sql`select 1`.execute(db).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseUnavailableError);
    expect(domainProblem(err)?.status).toBe(503);
    expect(domainProblem(err)?.detail).toBe(DATABASE_UNAVAILABLE);
    await db.destroy();
  });

  it("gives up on a call that does not answer in time, and hands a late value to onLate", async () => {
    let late: number | undefined;
    const slow = Bun.sleep(80).then(() => 7);
    await expect(bounded(slow, 20, "slow call", (v) => void (late = v))).rejects.toBeInstanceOf(
      DatabaseUnavailableError,
    );
    await slow;
    expect(late).toBe(7);
    expect(await bounded(Promise.resolve(3), 1000, "quick call")).toBe(3);
  });

  it("leaves errors of the query itself alone", async () => {
    const t = await createTestDatabase();
    try {
      const err = await sql`select nope from nowhere`.execute(t.db).catch((e: unknown) => e);
      expect(err).not.toBeInstanceOf(DatabaseUnavailableError);
      expect((err as { code?: string }).code).toBe("42P01");
    } finally {
      await t.drop();
    }
  });

  it("classifies connection failures by socket error and SQLSTATE", () => {
    for (const code of ["ECONNREFUSED", "CONNECTION_CLOSED", "08006", "57P03", "57P01"])
      expect(isConnectionFailure({ code })).toBe(true);
    for (const e of [{ code: "23505" }, { code: 42 }, null, new Error("x")]) expect(isConnectionFailure(e)).toBe(false);
    expect(isConnectionFailure(new DatabaseUnavailableError(undefined))).toBe(true);
  });

  it("replaces the pool after a statement that did not answer in time, and rolls back nothing on it", async () => {
    const t = await createTestDatabase();
    try {
      const slow = await sql`select pg_sleep(7)`.execute(t.db).catch((e: unknown) => e);
      expect(slow).toBeInstanceOf(DatabaseUnavailableError);
      expect((slow as DatabaseUnavailableError).timedOut).toBe(true);
      const inTx = await t.db
        .transaction()
        .execute((tx) => sql`select pg_sleep(7)`.execute(tx))
        .catch((e: unknown) => e);
      expect(inTx).toBeInstanceOf(DatabaseUnavailableError);
      expect((await sql<{ one: number }>`select 1 as one`.execute(t.db)).rows).toEqual([{ one: 1 }]);
    } finally {
      await t.drop();
    }
  }, 60_000);

  it("recognises postgres.js' write on a socket that closed, and nothing else", () => {
    function nextWrite(): never {
      throw new TypeError("null is not an object (evaluating 'socket.write')");
    }
    let thrown: unknown;
    try {
      nextWrite();
    } catch (e) {
      thrown = e;
    }
    expect(isLostSocketWrite(thrown)).toBe(true);
    expect(isLostSocketWrite(new TypeError("null is not an object (evaluating 'socket.write')"))).toBe(false);
    expect(isLostSocketWrite(new Error("nextWrite"))).toBe(false);
  });
});
