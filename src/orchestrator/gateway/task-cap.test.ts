/** `MAX_ACTIVE_TASKS_PER_USER`: POST /v1/tasks past a user's cap on queued+running tasks, on a real gateway and database. */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { problemOf, startGatewayFixture, type GatewayFixture } from "../../testing/gateway-fixture";
import { activeJobCount } from "../db/tasks";

let f: GatewayFixture;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  f = await startGatewayFixture({ handles: ["alice", "bob", "carol"], deps: { maxActiveTasksPerUser: 3 } });
  for (const handle of ["alice", "bob", "carol"]) tokens[handle] = (await f.login(handle)).access_token;
});
afterAll(() => f.close());

const create = (handle: string) =>
  f.call("POST", "/v1/tasks", { token: tokens[handle], body: { prompt: "echo hi", input_mode: "commands" } });

describe("POST /v1/tasks past MAX_ACTIVE_TASKS_PER_USER", () => {
  it("answers 429 problem+json with Retry-After beyond the cap, stores nothing, and leaves other users alone", async () => {
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await (await create("alice")).json());
    const refused = await create("alice");
    expect(refused.headers.get("retry-after")).toBe("10");
    expect(await problemOf(refused)).toEqual({
      status: 429,
      contentType: "application/problem+json",
      body: {
        type: "urn:cynodeai:error:rate_limit",
        title: "Too Many Requests",
        status: 429,
        detail: "You already have 3 tasks queued or running; wait for one to finish",
      },
    });
    expect(await activeJobCount(f.t.db, f.users.alice!)).toBe(3);
    expect((await create("bob")).status).toBe(201);
    const jobs = await f.t.db.selectFrom("jobs").select("owner_id").where("task_id", "=", made[0].id).execute();
    expect(jobs).toEqual([{ owner_id: f.users.alice! }]);
  });

  it("takes a task again once one of the user's tasks is canceled or its job has ended", async () => {
    const [first] = await f.t.db
      .selectFrom("tasks")
      .select("id")
      .where("created_by", "=", f.users.alice!)
      .orderBy("created_at")
      .execute();
    await f.call("POST", `/v1/tasks/${first!.id}/cancel`, { token: tokens.alice });
    expect((await create("alice")).status).toBe(201);
    expect((await create("alice")).status).toBe(429);
    await f.t.db
      .updateTable("jobs")
      .set({ status: "completed" })
      .where("owner_id", "=", f.users.alice!)
      .where("status", "=", "queued")
      .execute();
    expect((await create("alice")).status).toBe(201);
  });

  it("never lets concurrent creates exceed the cap", async () => {
    const statuses = (await Promise.all(Array.from({ length: 10 }, () => create("carol")))).map((r) => r.status);
    expect(statuses.sort()).toEqual([201, 201, 201, 429, 429, 429, 429, 429, 429, 429]);
    expect(await activeJobCount(f.t.db, f.users.carol!)).toBe(3);
  });
});
