/**
 * The chat agent's tools against a real gateway's database: each runs as its user through the task routes' own
 * operations, refuses what the routes refuse, and every call is recorded with its arguments capped.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { memoryLogger } from "../../lib/log";
import { startGatewayFixture, type GatewayFixture } from "../../testing/gateway-fixture";
import { MAX_RECORDED_ARGUMENTS, toolCallsOfThread } from "../db/chat-tool-calls";
import { createThread } from "../db/chat-threads";
import { ensureSystemSkill, insertSkill, SYSTEM_SKILL_NAME } from "../db/skills";
import type { TaskDeps } from "../gateway/tasks";
import { systemMessage } from "./instructions";
import { recordedCall } from "./recorded-call";
import { TOOL_DECLARATIONS } from "./tools";

let f: GatewayFixture;
let alice: { id: string; handle: string; sessionId: string };
let threadId: string;
let call: (name: string, args: unknown) => Promise<any>;

beforeAll(async () => {
  f = await startGatewayFixture();
  await ensureSystemSkill(f.t.db);
  alice = { id: f.users.alice!, handle: "alice", sessionId: "s" };
  threadId = (await createThread(f.t.db, { userId: alice.id, projectId: null })).id;
  const tasks: TaskDeps = {
    db: f.t.db,
    tokens: f.tokens,
    log: memoryLogger("tools"),
    now: () => new Date(),
    jobDefaults: { sandboxImage: "localhost/cynode-sandbox:latest", inferenceModel: "test-model" },
  };
  const context = {
    tasks,
    user: alice,
    projectId: null,
    models: async () => ({ object: "list" as const, data: [] }),
    signal: new AbortController().signal,
    threadId,
    log: tasks.log,
  };
  call = async (name, args) => JSON.parse(await recordedCall(context, name, args));
});
afterAll(() => f.close());

describe("the chat agent's tools", () => {
  it("declares every tool to the model with its parameters", () => {
    const names = TOOL_DECLARATIONS.map((t) => t.function.name);
    expect(names).toEqual([
      "task_create",
      "task_get",
      "task_result",
      "task_list",
      "task_cancel",
      "task_logs",
      "artifacts_list",
      "models_list",
      "skills_list",
      "skills_get",
    ]);
    const create = TOOL_DECLARATIONS[0]!.function.parameters as { required: string[] };
    expect(create.required).toEqual(["prompt"]);
  });

  it("creates, reads, lists, cancels and logs tasks as the user", async () => {
    const task = await call(
      "task_create",
      JSON.stringify({ prompt: "echo hi", input_mode: "commands", task_name: "t1" }),
    );
    expect(task).toMatchObject({ status: "queued", task_name: "t1" });
    expect((await call("task_get", { task_id: "t1" })).id).toBe(task.id);
    expect((await call("task_list", { limit: 5 })).tasks.map((t: { id: string }) => t.id)).toEqual([task.id]);
    expect(await call("task_result", { task_id: task.id, wait_seconds: 0 })).toMatchObject({
      status: "queued",
      jobs: [{ status: "queued", stdout: "", stderr: "" }],
    });
    expect(await call("task_logs", { task_id: task.id })).toEqual({ task_id: task.id, stdout: "", stderr: "" });
    expect(await call("artifacts_list", { task_id: task.id })).toEqual({
      task_id: task.id,
      artifacts: [],
      note: "artifacts are not stored yet",
    });
    expect(await call("task_cancel", { task_id: task.id })).toEqual({ task_id: task.id, canceled: true });
    expect(await call("models_list", "")).toEqual({ object: "list", data: [] });
  });

  it("refuses what the gateway refuses, bad arguments and unknown tools, and records each call", async () => {
    expect(await call("task_get", { task_id: crypto.randomUUID() })).toEqual({ status: 404, error: "Task not found" });
    expect(await call("task_create", { prompt: " " })).toEqual({ status: 400, error: "Prompt is required" });
    expect(await call("task_get", { task_id: "" })).toEqual({ error: "invalid arguments: task_id is required" });
    expect(await call("task_get", "{not json")).toEqual({ error: "arguments are not JSON" });
    expect(await call("rm_rf", {})).toEqual({ error: "unknown tool rm_rf" });
    const long = "x".repeat(5000);
    await call("skills_get", { name: long });
    const rows = await toolCallsOfThread(f.t.db, alice.id, threadId);
    const last = rows.at(-1)!;
    expect([last.tool, last.outcome, last.arguments.length]).toEqual(["skills_get", "ok", MAX_RECORDED_ARGUMENTS]);
    expect(rows.filter((r) => r.outcome === "error").map((r) => r.error)).toEqual([
      "404 Task not found",
      "400 Prompt is required",
      "invalid arguments: task_id is required",
      "arguments are not JSON",
      "unknown tool rm_rf",
    ]);
    expect(await toolCallsOfThread(f.t.db, f.users.bob!, threadId)).toEqual([]);
  });

  it("lists and reads the skills the user can see, by name", async () => {
    await insertSkill(f.t.db, { name: "style", content: "Be brief.", scope: "user", ownerId: alice.id });
    await insertSkill(f.t.db, { name: "style", content: "Bob's.", scope: "user", ownerId: f.users.bob! });
    const names = (await call("skills_list", {})).skills.map((s: { name: string }) => s.name);
    expect(names).toEqual(["style", SYSTEM_SKILL_NAME]);
    expect((await call("skills_get", { name: "style" })).content).toBe("Be brief.");
    expect(await call("skills_get", { name: "nope" })).toEqual({ error: "skill not found" });
  });
});

describe("the chat agent's instructions", () => {
  it("hold the system skill, the names of the user's skills and the project", async () => {
    const skills = await f.t.db.selectFrom("skills").selectAll().where("owner_id", "is", null).execute();
    const user = await f.t.db.selectFrom("skills").selectAll().where("owner_id", "=", alice.id).execute();
    const text = systemMessage({ skills: [...skills, ...user], projectId: "p-1" });
    expect(text).toContain("# CyNodeAI interaction");
    expect(text).toContain("## Skills (read one with skills_get)\n- style");
    expect(text).toEndWith("## Project context\nproject_id: p-1");
    expect(systemMessage({ skills: [], projectId: null })).not.toContain("##");
  });
});
