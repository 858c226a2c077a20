import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { sql } from "kysely";
import { createUserWithPassword } from "../db/users";
import { openNotifications, type Notifications } from "../db/notifications";
import { cancelTask, createTask, ensureDefaultProject, findTask, type TaskWithAttachments } from "../db/tasks";
import { finishTaskAsNode } from "../../testing/finish-task-as-node";
import { createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { startTaskEndWaiter, type TaskEndWaiter } from "./task-end-waiter";

let t: TestDatabase;
let n: Notifications;
let waiter: TaskEndWaiter;
let userId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  n = openNotifications(t.url);
  waiter = await startTaskEndWaiter(n);
  userId = (await createUserWithPassword(t.db, { handle: "alice", passwordHash: "x" })).id;
});
afterAll(async () => {
  await waiter.close();
  await n.close();
  await t.drop();
});

async function newTask(): Promise<TaskWithAttachments> {
  const projectId = await ensureDefaultProject(t.db, userId);
  const { task } = await createTask(t.db, {
    userId,
    projectId,
    prompt: "x",
    name: "",
    attachments: [],
    jobPayload: { command: ["true"] },
  });
  return read(task.id)();
}
const read = (id: string) => async () => {
  const found = await findTask(t.db, userId, id);
  if ("error" in found) throw new Error(found.error);
  return found.task;
};
/** Far longer than any test runs: a wait that ends was woken, not timed out. */
const LONG = 600_000;

describe("task end waiter", () => {
  it("answers at once with a task that has already ended", async () => {
    const task = await newTask();
    await cancelTask(t.db, task.id, new Date());
    const ended = await read(task.id)();
    expect(await waiter.wait(ended, LONG, undefined, read(task.id))).toBe(ended);
  });

  it("wakes when the task's job result is stored, with the ended task", async () => {
    const task = await newTask();
    const waiting = waiter.wait(task, LONG, undefined, read(task.id));
    await Bun.sleep(20);
    await finishTaskAsNode(t.db, task.id, { stdout: "done\n" });
    expect((await waiting).status).toBe("completed");
  });

  it("wakes every waiter of a canceled task, and only those", async () => {
    const [a, b] = [await newTask(), await newTask()];
    let bDone = false;
    const waitsA = [1, 2].map(() => waiter.wait(a, LONG, undefined, read(a.id)));
    const ac = new AbortController();
    const waitB = waiter.wait(b, LONG, ac.signal, read(b.id)).then((r) => {
      bDone = true;
      return r;
    });
    await cancelTask(t.db, a.id, new Date());
    expect((await Promise.all(waitsA)).map((r) => r.status)).toEqual(["canceled", "canceled"]);
    await Bun.sleep(50);
    expect(bDone).toBe(false);
    ac.abort();
    expect((await waitB).status).toBe("pending");
  });

  it("answers with the current state when the time runs out", async () => {
    const task = await newTask();
    expect((await waiter.wait(task, 50, undefined, read(task.id))).status).toBe("pending");
  });

  it("counts an end committed between the caller's read and its subscription", async () => {
    const task = await newTask();
    await finishTaskAsNode(t.db, task.id, { stdout: "", status: "failed" });
    // `task` is the stale read (pending): the waiter's own read sees the end without any notification.
    expect((await waiter.wait(task, LONG, undefined, read(task.id))).status).toBe("failed");
  });

  it("re-reads every waiting task after its connection comes back, since ends may have gone unnotified", async () => {
    const task = await newTask();
    let reads = 0;
    const counted = async () => {
      reads++;
      return read(task.id)();
    };
    const waiting = waiter.wait(task, LONG, undefined, counted);
    await Bun.sleep(20);
    await sql`select pg_terminate_backend(pid) from pg_stat_activity
      where datname = current_database() and query ilike 'listen%'`.execute(t.db);
    expect((await waiting).status).toBe("pending");
    expect(reads).toBe(2);
  });

  it("on close, answers every wait with the current state and takes no new ones", async () => {
    const other = await startTaskEndWaiter(n);
    const task = await newTask();
    const waiting = other.wait(task, LONG, undefined, read(task.id));
    await Bun.sleep(20);
    await other.close();
    expect((await waiting).status).toBe("pending");
    let reads = 0;
    const counted = async () => {
      reads++;
      return read(task.id)();
    };
    expect(await other.wait(task, LONG, undefined, counted)).toBe(task);
    expect(reads).toBe(0);
  });
});
