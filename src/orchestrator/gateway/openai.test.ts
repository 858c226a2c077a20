/**
 * The OpenAI-compatible surface end to end with the official `openai` npm client: the real orchestrator on a real
 * database, a real worker node whose Worker API relays to its Ollama — here the Ollama-API-compatible TEST DOUBLE.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import OpenAI from "openai";
import { WORKER_API } from "../../contracts/routes";
import { startLocalSystem, type LocalSystem } from "../../testing/local-system";
import { replyChunks, testReply } from "../../testing/ollama-test-server";
import { createSecretBox, loadSecretKey } from "../auth/secret-box";

const MODELS = ["qwen3.5:0.8b", "tiny-test:latest"];
let system: LocalSystem;
let client: OpenAI;
let token: string;

beforeAll(async () => {
  system = await startLocalSystem({ name: "openai-e2e", models: MODELS });
  token = await system.adminToken();
  client = new OpenAI({ baseURL: new URL("/v1", system.orchestrator.gateway.url).href, apiKey: token, maxRetries: 0 });
}, 300_000);

afterAll(() => system?.stop());

const gateway = (path: string, init: RequestInit = {}) => fetch(new URL(path, system.orchestrator.gateway.url), init);

describe("GET /v1/models", () => {
  it("lists the models the live node's Ollama has, in OpenAI's list format", async () => {
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toEqual(["cynodeai.pm", ...MODELS]);
    for (const m of page.data)
      expect([m.object, m.owned_by, typeof m.created]).toEqual(["model", "cynodeai", "number"]);
  });

  it("answers 401 in OpenAI's error shape without a token", async () => {
    const res = await gateway("/v1/models");
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: {
        message: "Missing authorization header",
        type: "authentication_error",
        param: null,
        code: "invalid_api_key",
      },
    });
  });
});

describe("POST /v1/chat/completions", () => {
  it("answers one chat.completion with the model's reply", async () => {
    const done = await client.chat.completions.create({
      model: "tiny-test:latest",
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: "hello <there> & you" },
      ],
      temperature: 0.2,
    });
    expect(done.object).toBe("chat.completion");
    expect(done.model).toBe("tiny-test:latest");
    expect(done.choices[0]!.message).toMatchObject({ role: "assistant", content: testReply("hello <there> & you") });
    expect(done.choices[0]!.finish_reason).toBe("stop");
    const asked = JSON.parse(system.ollama.requests.findLast((r) => r.path === "/api/chat")!.body);
    expect(asked).toEqual({
      model: "tiny-test:latest",
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: "hello <there> & you" },
      ],
      stream: false,
      // The gateway and the node both clamp generation to their token limit (4096 by default) when the request sets none.
      options: { temperature: 0.2, num_predict: 4096 },
    });
  });

  it("streams chat.completion.chunk events, one per piece, ending with [DONE]", async () => {
    const prompt = "stream these several words please";
    const stream = await client.chat.completions.create({
      model: "",
      messages: [{ role: "user", content: prompt }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const pieces = chunks.map((c) => c.choices[0]?.delta.content ?? "").filter(Boolean);
    expect(pieces).toEqual(replyChunks(testReply(prompt)));
    expect(pieces.length).toBeGreaterThan(3);
    expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant");
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("stop");
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.model === "qwen3.5:0.8b")).toBe(true);
    const raw = await gateway("/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "hi" }], stream: true }),
    });
    expect(raw.headers.get("content-type")).toStartWith("text/event-stream");
    expect((await raw.text()).trimEnd()).toEndWith("data: [DONE]");
  });

  it("uses the default model when none is named, and ignores unknown fields", async () => {
    const res = await gateway("/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        messages: [{ role: "user", content: [{ type: "text", text: "parts" }], name: "me" }],
        frobnicate: true,
      }),
    });
    const body = (await res.json()) as OpenAI.ChatCompletion;
    expect([res.status, body.model, body.choices[0]!.message.content]).toEqual([200, "qwen3.5:0.8b", "echo: parts"]);
  });
});

describe("POST /v1/chat/completions refusals and audit", () => {
  it("answers 404 model_not_found for a model no live node has", async () => {
    const err = await client.chat.completions
      .create({ model: "no-such-model", messages: [{ role: "user", content: "x" }] })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect([err.status, err.code, err.type, err.param]).toEqual([
      404,
      "model_not_found",
      "invalid_request_error",
      "model",
    ]);
  });

  it("answers 400 invalid_request for empty messages", async () => {
    const err = await client.chat.completions.create({ messages: [], model: "qwen3.5:0.8b" }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect([err.status, err.code, err.param]).toEqual([400, "invalid_request", "messages"]);
  });

  it("writes one audit row per request, without message content", async () => {
    const rows = await system.db.db.selectFrom("chat_audit_log").selectAll().orderBy("created_at").execute();
    expect(rows.length).toBeGreaterThanOrEqual(5);
    expect(rows.map((r) => r.outcome)).toContain("model_not_found");
    expect(rows.filter((r) => r.outcome === "completed" && r.stream).length).toBeGreaterThanOrEqual(2);
    expect(rows.every((r) => r.user_id && r.message_count >= 0)).toBe(true);
    expect(JSON.stringify(rows)).not.toContain("stream these several words");
  });
});

describe("the Worker API inference route", () => {
  it("refuses a caller without the orchestrator's bearer token", async () => {
    const res = await fetch(system.node.workerApiUrl + WORKER_API.inferenceChat.path(), {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer wrong" },
      body: JSON.stringify({ model: "qwen3.5:0.8b", messages: [], stream: false }),
    });
    expect(res.status).toBe(401);
  });
});

describe("the node's Worker Telemetry API", () => {
  it("answers the orchestrator's token with the node's info, its last capability report and its logs", async () => {
    const secrets = createSecretBox(await loadSecretKey({ stateDir: system.stateDir }));
    const row = await system.db.db.selectFrom("nodes").select("worker_api_bearer_token").executeTakeFirstOrThrow();
    const auth = { authorization: `Bearer ${secrets.open(row.worker_api_bearer_token!)}` };
    const info = (await (
      await fetch(system.node.workerApiUrl + WORKER_API.nodeInfo.path(), { headers: auth })
    ).json()) as any;
    expect(info).toMatchObject({ version: 1, node_slug: "openai-e2e-node" });
    expect(info.last_capability_report.inference.available_models).toEqual(MODELS);
    const logs = await fetch(
      `${system.node.workerApiUrl}${WORKER_API.logs.path()}?source_kind=service&source_name=worker_api`,
      {
        headers: auth,
      },
    );
    const body = (await logs.json()) as { events: { fields: { path?: string } }[] };
    expect(body.events.some((e) => e.fields.path === WORKER_API.inferenceChat.path())).toBe(true);
  });
});
