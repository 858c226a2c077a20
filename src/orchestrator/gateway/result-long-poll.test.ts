import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { finishTaskAsNode } from "../../testing/finish-task-as-node";
import { problemOf, startGatewayFixture, type GatewayFixture } from "../../testing/gateway-fixture";
import { until } from "../../testing/until";

// Two orchestrators' gateways on one database, each with its own LISTEN connection.
let a: GatewayFixture;
let b: GatewayFixture;
let tokenA: string;
let tokenB: string;

beforeAll(async () => {
  a = await startGatewayFixture({ longPoll: true });
  b = await startGatewayFixture({ longPoll: true, database: { t: a.t, users: a.users } });
  tokenA = (await a.login("alice")).access_token;
  tokenB = (await b.login("alice")).access_token;
});
afterAll(async () => {
  await b.close();
  await a.close();
});

const createTask = async () =>
  (await (await a.call("POST", "/v1/tasks", { token: tokenA, body: { prompt: "x", task_name: "poll" } })).json()) as {
    id: string;
    task_name: string;
  };

describe("GET /v1/tasks/{id}/result?wait=", () => {
  it("answers a waiter on one gateway as soon as the task is canceled through the other", async () => {
    const task = await createTask();
    // 60 s, longer than this test's timeout: only the notification can end the wait in time.
    const waiting = b.call("GET", `/v1/tasks/${task.id}/result?wait=60`, { token: tokenB });
    await until(() => b.waiting(task.id), "the waiter on gateway b to subscribe");
    expect((await a.call("POST", `/v1/tasks/${task.id}/cancel`, { token: tokenA })).status).toBe(200);
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ task_id: task.id, status: "canceled", jobs: [{ status: "canceled" }] });
  }, 30_000);

  it("wakes a waiter that named the task when the node's result is stored", async () => {
    const task = await createTask();
    const waiting = a.call("GET", `/v1/tasks/${task.task_name}/result?wait=60`, { token: tokenA });
    await until(() => a.waiting(task.id), "the waiter to subscribe");
    await finishTaskAsNode(a.t.db, task.id, { stdout: "hi\n" });
    const body = await (await waiting).json();
    expect(body).toMatchObject({ task_id: task.id, status: "completed" });
    expect(JSON.parse(body.jobs[0].result).stdout).toBe("hi\n");
  }, 30_000);

  it("answers with the current state when the wait runs out, and at once without a wait", async () => {
    const task = await createTask();
    for (const q of ["?wait=0.2", "?wait=0", ""]) {
      const res = await b.call("GET", `/v1/tasks/${task.id}/result${q}`, { token: tokenB });
      expect(await res.json()).toMatchObject({ task_id: task.id, status: "queued" });
    }
  });

  it("rejects a wait that is not a number of seconds from 0 to 60 with 400 problem+json", async () => {
    const task = await createTask();
    for (const wait of ["61", "60.5", "-1", "abc", "1e1", "", "0.0001", "100"]) {
      const p = await problemOf(await a.call("GET", `/v1/tasks/${task.id}/result?wait=${wait}`, { token: tokenA }));
      expect({ wait, status: p.status, type: p.contentType, detail: p.body.detail }).toEqual({
        wait,
        status: 400,
        type: "application/problem+json",
        detail: "wait must be a number of seconds from 0 to 60",
      });
    }
  });

  it("keeps the owner checks ahead of the wait", async () => {
    const task = await createTask();
    const bob = (await a.login("bob")).access_token;
    expect((await a.call("GET", `/v1/tasks/${task.id}/result?wait=60`, { token: bob })).status).toBe(403);
    expect((await a.call("GET", `/v1/tasks/nope/result?wait=60`, { token: tokenA })).status).toBe(404);
  });
});
