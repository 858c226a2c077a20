/** The workflow lease routes over real HTTP on a real database (reference-agents 4, the reference's e2e_117). */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { Hono } from "hono";
import { CONTROL_PLANE_API } from "../../contracts/routes";
import { finishApi } from "../../lib/api-app";
import { memoryLogger } from "../../lib/log";
import { createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { createTask } from "../db/tasks";
import { workflowRoutes } from "./workflow";

let t: TestDatabase;
let open: ReturnType<typeof Bun.serve>;
let guarded: ReturnType<typeof Bun.serve>;
let clock = new Date("2026-03-01T10:00:00Z");

const serve = (token?: string) => {
  const log = memoryLogger("workflow-test");
  const app = finishApi(new Hono().route("/", workflowRoutes({ db: t.db, log, now: () => clock, token })), {
    log,
    reference: { title: "t", version: "0", bearer: "t" },
  });
  return Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
};

beforeAll(async () => {
  t = await createTestDatabase();
  [open, guarded] = [serve(), serve("runner-secret")];
});
afterAll(async () => {
  await Promise.all([open.stop(true), guarded.stop(true)]);
  await t.drop();
});

async function post(path: string, body: unknown, o: { server?: typeof open; token?: string } = {}) {
  const res = await fetch(new URL(path, (o.server ?? open).url), {
    method: "POST",
    headers: { "content-type": "application/json", ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get("content-type"), body: text ? JSON.parse(text) : undefined };
}

async function newTask(): Promise<string> {
  const user = await t.db
    .insertInto("users")
    .values({ id: crypto.randomUUID(), handle: `u-${crypto.randomUUID()}`, is_active: true })
    .returning("id")
    .executeTakeFirstOrThrow();
  const { task } = await createTask(t.db, {
    userId: user.id,
    projectId: crypto.randomUUID(),
    prompt: "true",
    name: "",
    attachments: [],
    jobPayload: { image: "x", command: ["true"] },
  });
  return task.id;
}

const { workflowStart: START, workflowResume: RESUME, workflowCheckpoint: CHECKPOINT } = CONTROL_PLANE_API;
const RELEASE = CONTROL_PLANE_API.workflowRelease;

describe("POST /v1/workflow/start", () => {
  it("gives the lease once: 409 for anyone else, the same holder without its lease id too", async () => {
    const task = await newTask();
    const first = await post(START.path(), { task_id: task, holder_id: "a" });
    expect(first).toMatchObject({ status: 200, body: { status: "started" } });
    expect(first.body.run_id).toBe(first.body.lease_id);
    for (const holder of ["a", "b"]) {
      const again = await post(START.path(), { task_id: task, holder_id: holder });
      expect([again.status, again.type, again.body.detail]).toEqual([
        409,
        "application/problem+json",
        "lease held by another workflow runner",
      ]);
    }
    const retry = await post(START.path(), { task_id: task, holder_id: "a", idempotency_key: first.body.lease_id });
    expect(retry.body).toEqual({
      run_id: first.body.lease_id,
      lease_id: first.body.lease_id,
      status: "already_running",
    });
  });

  it("hands a released or expired lease to the next holder", async () => {
    const task = await newTask();
    const key = crypto.randomUUID();
    const first = await post(START.path(), { task_id: task, holder_id: "a", idempotency_key: key, expires_in_sec: 60 });
    expect(first.body.lease_id).toBe(key);
    expect((await post(RELEASE.path(), { task_id: task, lease_id: key })).status).toBe(204);
    const second = await post(START.path(), { task_id: task, holder_id: "b", expires_in_sec: 60 });
    expect(second.body.status).toBe("started");
    clock = new Date(clock.getTime() + 61_000);
    expect((await post(START.path(), { task_id: task, holder_id: "c" })).body.status).toBe("started");
  });

  it("refuses a missing holder (400), an unknown task (404) and, with a token, a caller without it (401)", async () => {
    expect((await post(START.path(), { task_id: crypto.randomUUID(), holder_id: " " })).status).toBe(400);
    expect((await post(START.path(), { task_id: crypto.randomUUID(), holder_id: "a" })).body.detail).toBe(
      "task not found",
    );
    expect((await post(START.path(), "{", {})).body.detail).toBe("invalid JSON body");
    const task = await newTask();
    expect((await post(START.path(), { task_id: task, holder_id: "a" }, { server: guarded })).status).toBe(401);
    const ok = await post(START.path(), { task_id: task, holder_id: "a" }, { server: guarded, token: "runner-secret" });
    expect(ok.status).toBe(200);
  });
});

describe("checkpoints", () => {
  it("stores the last checkpoint and resumes from it, state in the form it came in", async () => {
    const task = await newTask();
    expect((await post(RESUME.path(), { task_id: task })).status).toBe(404);
    expect((await post(CHECKPOINT.path(), { task_id: task, state: "{}", last_node_id: "plan" })).status).toBe(204);
    expect((await post(RESUME.path(), { task_id: task })).body).toMatchObject({ state: "{}", last_node_id: "plan" });
    await post(CHECKPOINT.path(), { task_id: task, state: { step: 2 } });
    const resumed = await post(RESUME.path(), { task_id: task });
    expect([resumed.body.state, resumed.body.last_node_id]).toEqual([{ step: 2 }, undefined]);
    expect((await post(CHECKPOINT.path(), { task_id: task, state: "not json" })).status).toBe(400);
  });

  it("answers 400 without a task or lease id, and 204 for a release that matches nothing", async () => {
    expect((await post(RESUME.path(), { task_id: "" })).body.detail).toBe("task_id required");
    expect((await post(RESUME.path(), { task_id: "nope" })).status).toBe(404);
    expect((await post(RELEASE.path(), { task_id: "", lease_id: "x" })).body.detail).toBe("task_id required");
    expect((await post(RELEASE.path(), { task_id: "x", lease_id: "" })).body.detail).toBe("lease_id required");
    expect((await post(RELEASE.path(), { task_id: crypto.randomUUID(), lease_id: "x" })).status).toBe(204);
  });
});
