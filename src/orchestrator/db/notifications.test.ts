import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { sql } from "kysely";
import { createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { CHANNELS, notify, openNotifications, type Notifications } from "./notifications";
import { until } from "../../testing/until";

let t: TestDatabase;
let n: Notifications;
beforeAll(async () => {
  t = await createTestDatabase();
  n = openNotifications(t.url);
});
afterAll(async () => {
  await n.close();
  await t.drop();
});

/** Collects payloads and lets a test await the next one. */
function inbox() {
  const got: string[] = [];
  const waiters: (() => void)[] = [];
  return {
    got,
    push(p: string) {
      got.push(p);
      for (const w of waiters.splice(0)) w();
    },
    async until(count: number) {
      while (got.length < count) await new Promise<void>((r) => waiters.push(r));
    },
  };
}

describe("LISTEN/NOTIFY", () => {
  it("delivers a notification sent through the query handle to a listener of its channel", async () => {
    const box = inbox();
    const unlisten = await n.listen(CHANNELS.taskEnded, box.push);
    await notify(t.db, CHANNELS.taskEnded, "task-a");
    await box.until(1);
    expect(box.got).toEqual(["task-a"]);
    await unlisten();
  });

  it("delivers what a transaction sends only once it commits, and nothing of a rolled-back one", async () => {
    const box = inbox();
    const unlisten = await n.listen(CHANNELS.taskEnded, box.push);
    await t.db
      .transaction()
      .execute(async (tx) => {
        await notify(tx, CHANNELS.taskEnded, "rolled-back");
        throw new Error("rollback");
      })
      .catch(() => {});
    await t.db.transaction().execute(async (tx) => {
      await notify(tx, CHANNELS.taskEnded, "committed");
      await Bun.sleep(50);
      expect(box.got).toEqual([]);
    });
    await box.until(1);
    expect(box.got).toEqual(["committed"]);
    await unlisten();
  });

  it("listens again after its connection is killed, and tells the listener so it can re-check", async () => {
    const box = inbox();
    let listening = 0;
    const unlisten = await n.listen(CHANNELS.taskEnded, box.push, () => void listening++);
    expect(listening).toBe(1);
    await sql`select pg_terminate_backend(pid) from pg_stat_activity
      where datname = current_database() and query ilike 'listen%'`.execute(t.db);
    await until(() => listening >= 2, "the listener to listen again", { intervalMs: 50 });
    expect(listening).toBe(2);
    await notify(t.db, CHANNELS.taskEnded, "after-reconnect");
    await box.until(1);
    expect(box.got).toEqual(["after-reconnect"]);
    await unlisten();
  });
});
