import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { problemOf, startGatewayFixture, type GatewayFixture } from "../../testing/gateway-fixture";

let f: GatewayFixture;
let alice: string;
let bob: string;
const canceledOnNodes: { id: string; node_id: string }[][] = [];
let jobsQueued = 0;

beforeAll(async () => {
  f = await startGatewayFixture({
    deps: { cancelJobsOnNodes: async (jobs) => void canceledOnNodes.push(jobs), onJobQueued: () => void jobsQueued++ },
  });
  alice = (await f.login("alice")).access_token;
  bob = (await f.login("bob")).access_token;
});
afterAll(() => f.close());

const create = async (body: Record<string, unknown>, token = alice) => {
  const res = await f.call("POST", "/v1/tasks", { token, body });
  return { status: res.status, body: await res.json() };
};
const jobRow = (taskId: string) =>
  f.t.db.selectFrom("jobs").selectAll().where("task_id", "=", taskId).executeTakeFirstOrThrow();

describe("POST /v1/tasks", () => {
  it("creates a queued task with a queued prompt job that asks the model", async () => {
    const { status, body } = await create({ prompt: "What is 2+2?" });
    expect(status).toBe(201);
    expect(body).toMatchObject({ status: "queued", prompt: "What is 2+2?", task_id: body.id });
    expect(body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const job = await jobRow(body.id);
    expect(job.status).toBe("queued");
    expect(job.payload).toEqual({
      image: "localhost/cynode-sandbox:latest",
      command: ["cynode-prompt"],
      env: { CYNODE_PROMPT: "What is 2+2?", CYNODE_INFERENCE_MODEL: "test-model" },
      use_inference: true,
    });
  });

  it("tells the dispatcher once per queued job, and not for a rejected request", async () => {
    const before = jobsQueued;
    await create({ prompt: "x" });
    await create({ prompt: " " });
    expect(jobsQueued - before).toBe(1);
  });

  it("runs script and commands modes literally with sh -c", async () => {
    const { body } = await create({ prompt: "echo a\necho b", input_mode: "commands", use_inference: true });
    expect((await jobRow(body.id)).payload).toMatchObject({
      command: ["sh", "-c", "echo a\necho b"],
      use_inference: true,
    });
    const script = await create({ prompt: "#!/bin/sh\necho s", input_mode: "script" });
    expect((await jobRow(script.body.id)).payload).toEqual({
      image: "localhost/cynode-sandbox:latest",
      command: ["sh", "-c", "#!/bin/sh\necho s"],
    });
  });

  it("normalizes names and keeps them unique per user", async () => {
    const a = await create({ prompt: "x", task_name: "  My Fancy__Task!! " });
    const b = await create({ prompt: "x", task_name: "my fancy task" });
    const other = await create({ prompt: "x", task_name: "My Fancy Task" }, bob);
    expect([a.body.task_name, b.body.task_name, other.body.task_name]).toEqual([
      "my-fancy-task",
      "my-fancy-task-2",
      "my-fancy-task",
    ]);
  });

  it("gives unnamed tasks distinct generated names, even when created concurrently", async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => create({ prompt: "x" }, bob)));
    const names = results.map((r) => r.body.task_name);
    expect(new Set(names).size).toBe(5);
    for (const n of names) expect(n).toMatch(/^task-\d{3,}$/);
  });

  it("stores and echoes attachment paths", async () => {
    const { body } = await create({ prompt: "x", attachments: ["/tmp/a.txt", " ", "/tmp/b.txt", "/tmp/a.txt"] });
    expect(body.attachments).toEqual(["/tmp/a.txt", "/tmp/b.txt"]);
    expect((await (await f.call("GET", `/v1/tasks/${body.id}`, { token: alice })).json()).attachments).toEqual([
      "/tmp/a.txt",
      "/tmp/b.txt",
    ]);
  });
});

describe("POST /v1/tasks with bad input or no valid token", () => {
  it("rejects bad input with the documented 400 problems", async () => {
    const cases: [unknown, string][] = [
      [{ prompt: "   " }, "Prompt is required"],
      [{ prompt: 12 }, "Invalid request body"],
      [{}, "Invalid request body"],
      [{ prompt: "x", project_id: "not-a-uuid" }, "Invalid project_id"],
      [{ prompt: "x", input_mode: "telepathy" }, "Invalid request body"],
    ];
    for (const [body, detail] of cases) {
      const p = await problemOf(await f.call("POST", "/v1/tasks", { token: alice, body }));
      expect(p).toMatchObject({
        status: 400,
        contentType: "application/problem+json",
        body: { type: "urn:cynodeai:error:validation", detail },
      });
    }
    expect((await problemOf(await f.call("POST", "/v1/tasks", { token: alice, raw: '{"prompt":' }))).body.detail).toBe(
      "Invalid request body",
    );
  });

  it("answers a body far past any server cap (80 MiB) with the same 400 problem", async () => {
    const res = await f.call("POST", "/v1/tasks", { token: alice, raw: "x".repeat(80 * 1024 * 1024) });
    expect(await problemOf(res)).toMatchObject({ status: 400, body: { detail: "Invalid request body" } });
  });

  it("answers an oversize body (over 10 MiB) with 400 and stores nothing", async () => {
    const before = await f.t.db
      .selectFrom("tasks")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .executeTakeFirstOrThrow();
    const res = await f.call("POST", "/v1/tasks", {
      token: alice,
      raw: JSON.stringify({ prompt: "x".repeat(10 * 1024 * 1024 + 1) }),
    });
    expect(await problemOf(res)).toMatchObject({ status: 400, body: { detail: "Invalid request body" } });
    const after = await f.t.db
      .selectFrom("tasks")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });

  it("requires a valid access token: none, garbage, a refresh token, a node token", async () => {
    const { refresh_token } = await f.login("alice");
    const node = (await f.tokens.issueNode({ id: crypto.randomUUID(), slug: "n1" })).token;
    expect((await problemOf(await f.call("POST", "/v1/tasks", { body: { prompt: "x" } }))).body.detail).toBe(
      "Missing authorization header",
    );
    for (const token of ["garbage", refresh_token, node]) {
      const p = await problemOf(await f.call("GET", "/v1/tasks", { token }));
      expect(p).toMatchObject({ status: 401, body: { detail: "Invalid or expired token" } });
    }
  });
});

describe("GET /v1/tasks", () => {
  let owner: string;
  beforeAll(async () => {
    await f.call("POST", "/v1/users/x", {}); // unrelated 404 path keeps the gateway warm
    const { handles } = { handles: ["lister"] };
    const g = f; // same gateway; a fresh user isolates the listing
    const { createUserWithPassword } = await import("../db/users");
    const { hashPassword } = await import("../auth/passwords");
    await createUserWithPassword(g.t.db, { handle: handles[0]!, passwordHash: await hashPassword("pw-lister") });
    owner = (await g.login("lister", "pw-lister")).access_token;
    for (let i = 0; i < 5; i++) await create({ prompt: `p${i}`, task_name: `t${i}` }, owner);
    const done = await f.t.db.selectFrom("tasks").select("id").where("summary", "in", ["t1", "t3"]).execute();
    await f.t.db
      .updateTable("tasks")
      .set({ status: "completed", closed: true })
      .where(
        "id",
        "in",
        done.map((d) => d.id),
      )
      .execute();
  });

  it("pages newest first and always emits next_cursor", async () => {
    const first = await (await f.call("GET", "/v1/tasks?limit=2", { token: owner })).json();
    expect(first.tasks.map((t: { task_name: string }) => t.task_name)).toEqual(["t4", "t3"]);
    expect(first).toMatchObject({ next_cursor: "2", next_offset: 2 });
    const second = await (
      await f.call("GET", `/v1/tasks?limit=2&cursor=${first.next_cursor}`, { token: owner })
    ).json();
    expect(second.tasks.map((t: { task_name: string }) => t.task_name)).toEqual(["t2", "t1"]);
    const last = await (await f.call("GET", "/v1/tasks?limit=2&offset=4", { token: owner })).json();
    expect(last.tasks.length).toBe(1);
    expect(last.next_cursor).toBe("");
    expect(last.next_offset).toBeUndefined();
  });

  it("filters by status in SQL, so pages are full", async () => {
    const done = await (await f.call("GET", "/v1/tasks?status=completed&limit=2", { token: owner })).json();
    expect(done.tasks.map((t: { task_name: string }) => t.task_name)).toEqual(["t3", "t1"]);
    const queued = await (await f.call("GET", "/v1/tasks?status=queued", { token: owner })).json();
    expect(queued.tasks.map((t: { status: string }) => t.status)).toEqual(["queued", "queued", "queued"]);
  });

  it("shows only the caller's tasks", async () => {
    const mine = await (await f.call("GET", "/v1/tasks?limit=200", { token: owner })).json();
    expect(mine.tasks.length).toBe(5);
  });

  it("rejects bad paging and status values", async () => {
    for (const q of ["limit=0", "limit=201", "limit=abc", "offset=-1", "cursor=zz"])
      expect(await problemOf(await f.call("GET", `/v1/tasks?${q}`, { token: owner }))).toMatchObject({
        status: 400,
        body: { detail: "Invalid limit, offset, or cursor" },
      });
    expect((await f.call("GET", "/v1/tasks?status=bogus", { token: owner })).status).toBe(400);
  });
});

describe("task by id or name", () => {
  it("gets by UUID and by name; 404 unknown; 403 another user's UUID; 404 another user's name", async () => {
    const { body } = await create({ prompt: "x", task_name: "lookup-me" });
    expect((await (await f.call("GET", `/v1/tasks/${body.id}`, { token: alice })).json()).task_name).toBe("lookup-me");
    expect((await (await f.call("GET", "/v1/tasks/lookup-me", { token: alice })).json()).id).toBe(body.id);
    expect(await problemOf(await f.call("GET", `/v1/tasks/${crypto.randomUUID()}`, { token: alice }))).toMatchObject({
      status: 404,
      body: { detail: "Task not found" },
    });
    expect(await problemOf(await f.call("GET", `/v1/tasks/${body.id}/result`, { token: bob }))).toMatchObject({
      status: 403,
      body: { detail: "Not task owner" },
    });
    expect((await f.call("GET", "/v1/tasks/lookup-me", { token: bob })).status).toBe(404);
  });

  it("result lists jobs with their result as JSON text; logs concatenate stdout and stderr", async () => {
    const { body } = await create({ prompt: "echo hi", input_mode: "commands", task_name: "with-result" });
    const run = {
      version: 1,
      task_id: body.id,
      status: "completed",
      exit_code: 0,
      stdout: "hi\n",
      stderr: "warn\n",
      truncated: { stdout: false, stderr: false },
    };
    await f.t.db
      .updateTable("jobs")
      .set({ status: "completed", result: run, started_at: new Date(), ended_at: new Date() })
      .where("task_id", "=", body.id)
      .execute();
    await f.t.db.updateTable("tasks").set({ status: "completed", closed: true }).where("id", "=", body.id).execute();
    const result = await (await f.call("GET", "/v1/tasks/with-result/result", { token: alice })).json();
    expect(result).toMatchObject({ task_id: body.id, task_name: "with-result", status: "completed" });
    expect(JSON.parse(result.jobs[0].result)).toEqual(run);
    expect(result.jobs[0].ended_at).toMatch(/Z$/);
    const logs = await (await f.call("GET", "/v1/tasks/with-result/logs", { token: alice })).json();
    expect(logs).toEqual({ task_id: body.id, stdout: "hi\n", stderr: "warn\n" });
    expect(
      await (await f.call("GET", "/v1/tasks/with-result/logs?stream=stdout", { token: alice })).json(),
    ).toMatchObject({ stdout: "hi\n", stderr: "" });
    expect((await f.call("GET", "/v1/tasks/with-result/logs?stream=nope", { token: alice })).status).toBe(400);
  });
});

describe("POST /v1/tasks/{id}/cancel", () => {
  it("cancels the task and its jobs, and tells the node running a job to stop it", async () => {
    const { body } = await create({ prompt: "sleep 100", input_mode: "commands" });
    const nodeId = crypto.randomUUID();
    await f.t.db
      .insertInto("nodes")
      .values({
        id: nodeId,
        node_slug: `n-${nodeId}`,
        status: "active",
        capability_hash: null,
        config_version: null,
        config_hash: null,
        worker_api_target_url: null,
        worker_api_bearer_token: null,
        config_ack_at: null,
        config_ack_status: null,
        config_ack_error: null,
        config_ack_version: null,
        last_seen_at: null,
        last_capability_at: null,
        metadata: null,
      })
      .execute();
    const job = await jobRow(body.id);
    await f.t.db
      .updateTable("jobs")
      .set({ status: "running", node_id: nodeId, started_at: new Date() })
      .where("id", "=", job.id)
      .execute();
    const res = await f.call("POST", `/v1/tasks/${body.id}/cancel`, { token: alice });
    expect(await res.json()).toEqual({ task_id: body.id, canceled: true });
    expect((await jobRow(body.id)).status).toBe("canceled");
    expect(canceledOnNodes.at(-1)).toEqual([{ id: job.id, node_id: nodeId }]);
    const task = await (await f.call("GET", `/v1/tasks/${body.id}`, { token: alice })).json();
    expect(task.status).toBe("canceled");
  });

  it("leaves a terminal task's status alone but still answers canceled:true", async () => {
    const { body } = await create({ prompt: "x", input_mode: "commands" });
    await f.t.db.updateTable("tasks").set({ status: "completed", closed: true }).where("id", "=", body.id).execute();
    expect((await (await f.call("POST", `/v1/tasks/${body.id}/cancel`, { token: alice })).json()).canceled).toBe(true);
    expect((await (await f.call("GET", `/v1/tasks/${body.id}`, { token: alice })).json()).status).toBe("completed");
  });

  it("refuses another user's task", async () => {
    const { body } = await create({ prompt: "x" });
    expect((await f.call("POST", `/v1/tasks/${body.id}/cancel`, { token: bob })).status).toBe(403);
  });
});
