/**
 * Which model a chat, `/v1/models` and a prompt task get: exactly what live nodes serve, the configured default
 * (`test-model` in the gateway fixture) only while a live node serves it. A real gateway on a real database, nodes
 * registered in it, a real Worker API relaying to the Ollama TEST DOUBLE.
 */
import { PM_MODEL } from "../../contracts/chat-agent";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "bun:test";
import { startChatNode, type ChatNode } from "../../testing/chat-node-fixture";
import { startGatewayFixture, type GatewayFixture } from "../../testing/gateway-fixture";
import { resolveModel } from "../chat/live-nodes";

let node: ChatNode;
let g: GatewayFixture;
let token: string;

beforeAll(async () => {
  node = await startChatNode({ models: ["m1", "m2", "test-model"] });
});
afterAll(() => node?.stop());
beforeEach(async () => {
  g = await startGatewayFixture({ deps: { chat: { openToken: (s: string) => s } } });
  token = (await g.login("alice")).access_token;
});
afterEach(() => g.close());

const models = async () =>
  ((await (await g.call("GET", "/v1/models", { token })).json()) as { data: { id: string }[] }).data.map((m) => m.id);
const chat = async (model?: string) => {
  const res = await g.call("POST", "/v1/chat/completions", {
    token,
    body: { ...(model === undefined ? {} : { model }), messages: [{ role: "user", content: "hi" }] },
  });
  const body = (await res.json()) as { model?: string; error?: { code: string } };
  return [res.status, body.model ?? body.error?.code];
};
const promptTaskModel = async () => {
  const res = await g.call("POST", "/v1/tasks", { token, body: { prompt: "2+2?" } });
  const { id } = (await res.json()) as { id: string };
  const job = await g.t.db.selectFrom("jobs").select("payload").where("task_id", "=", id).executeTakeFirstOrThrow();
  return (job.payload as { env: Record<string, string> }).env.CYNODE_INFERENCE_MODEL;
};

describe("resolveModel", () => {
  it("prefers the default when served, else the model most nodes serve, then by name", () => {
    expect(resolveModel([{ models: ["b", "d"] }, { models: ["d"] }], "d")).toBe("d");
    expect(resolveModel([{ models: ["b", "a"] }, { models: ["b"] }], "d")).toBe("b");
    expect(resolveModel([{ models: ["c", "a"] }, { models: ["b"] }], "d")).toBe("a");
    expect(resolveModel([{ models: [] }], "d")).toBeUndefined();
  });
});

describe("models a chat and a prompt task get", () => {
  it("lists exactly what live nodes serve, and picks a served model when the default is not", async () => {
    await node.register(g.t.db, "node-a", { models: ["m1", "m2"] });
    await node.register(g.t.db, "node-b", { models: ["m2"] });
    // The chat agent first, while a live node serves a model for it.
    expect(await models()).toEqual([PM_MODEL, "m1", "m2"]);
    expect(await chat()).toEqual([200, "m2"]);
    expect(await chat("test-model")).toEqual([200, "m2"]);
    expect(await chat("m1")).toEqual([200, "m1"]);
    expect(await chat("nope")).toEqual([404, "model_not_found"]);
    expect(await promptTaskModel()).toBe("m2");
  });

  it("uses the configured default while a live node serves it", async () => {
    await node.register(g.t.db, "node-a", { models: ["m1"] });
    await node.register(g.t.db, "node-b", { models: ["m1"] });
    await node.register(g.t.db, "node-c", { models: ["test-model"] });
    expect(await models()).toEqual([PM_MODEL, "m1", "test-model"]);
    expect(await chat()).toEqual([200, "test-model"]);
    expect(await promptTaskModel()).toBe("test-model");
  });

  it("lists nothing and answers 503 when no live node serves a model; a prompt task keeps the default", async () => {
    await node.register(g.t.db, "empty-node", { models: [] });
    expect(await models()).toEqual([]);
    expect(await chat()).toEqual([503, "cynodeai_no_inference_node"]);
    expect(await chat("test-model")).toEqual([503, "cynodeai_no_inference_node"]);
    expect(await promptTaskModel()).toBe("test-model");
  });
});
