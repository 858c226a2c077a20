import { describe, expect, it } from "bun:test";
import { INFERENCE_ROUTES } from "../contracts/inference-api";
import {
  clampInferenceOptions,
  DEFAULT_INFERENCE_LIMITS,
  filterModelList,
  modelAllowed,
  parseJsonObject,
  rewriteInferenceBody,
} from "./inference-request";

const CHAT = INFERENCE_ROUTES["POST /api/chat"]!;
const SHOW = INFERENCE_ROUTES["POST /api/show"]!;
const EMBED = INFERENCE_ROUTES["POST /api/embed"]!;
const OPENAI_CHAT = INFERENCE_ROUTES["POST /v1/chat/completions"]!;
const OPENAI_EMBED = INFERENCE_ROUTES["POST /v1/embeddings"]!;
const LIMITS = DEFAULT_INFERENCE_LIMITS;
const policy = { allowedModels: ["qwen3.5:0.8b", "llama3", "registry:5000/team/m"], limits: LIMITS };
const bytes = (x: unknown) => Buffer.from(typeof x === "string" ? x : JSON.stringify(x));
const decoded = (out: Uint8Array | { status: number }) => {
  if (!(out instanceof Uint8Array)) throw new Error(`refused: ${JSON.stringify(out)}`);
  return JSON.parse(Buffer.from(out).toString());
};

describe("model matching", () => {
  it("treats name and name:latest as one model, and nothing else as equal", () => {
    expect(modelAllowed("llama3:latest", ["llama3"])).toBe(true);
    expect(modelAllowed("llama3", ["llama3:latest"])).toBe(true);
    expect(modelAllowed("llama3:8b", ["llama3"])).toBe(false);
    expect(modelAllowed("qwen3.5", ["qwen3.5:0.8b"])).toBe(false);
    expect(modelAllowed("QWEN3.5:0.8b", ["qwen3.5:0.8b"])).toBe(false);
    // A registry port is not a tag.
    expect(modelAllowed("registry:5000/team/m:latest", ["registry:5000/team/m"])).toBe(true);
    expect(modelAllowed("anything", [])).toBe(false);
  });
});

describe("rewriting a model route's body", () => {
  it("refuses a model outside the list with 403, and any model named under `name` too", () => {
    expect(rewriteInferenceBody(bytes({ model: "secret:70b", messages: [] }), CHAT, policy)).toEqual({
      status: 403,
      detail: 'model "secret:70b" is not allowed for this job',
    });
    expect(rewriteInferenceBody(bytes({ model: "llama3", name: "secret" }), SHOW, policy)).toMatchObject({
      status: 403,
    });
    expect(decoded(rewriteInferenceBody(bytes({ name: "llama3:latest" }), SHOW, policy))).toEqual({
      name: "llama3:latest",
    });
  });

  it("answers 400 for a body that is not a JSON object or names no model", () => {
    for (const body of ["{", "[1]", "null", "\xff\xfe", ""]) {
      expect(rewriteInferenceBody(Buffer.from(body, "latin1"), CHAT, policy)).toMatchObject({ status: 400 });
    }
    expect(rewriteInferenceBody(bytes({ messages: [] }), CHAT, policy)).toEqual({
      status: 400,
      detail: "the request must name a model",
    });
    expect(rewriteInferenceBody(bytes({ model: 7 }), CHAT, policy)).toMatchObject({ status: 400 });
    expect(rewriteInferenceBody(bytes({ model: "" }), OPENAI_CHAT, policy)).toMatchObject({ status: 400 });
    expect(parseJsonObject(bytes("[]"))).toBe("the request body must be a JSON object");
  });

  it("clamps num_ctx, num_predict and keep_alive of an Ollama request, and adds a token limit when none is set", () => {
    const body = {
      model: "llama3",
      options: { num_ctx: 1_000_000, num_predict: 99_999, temperature: 0 },
      keep_alive: -1,
    };
    expect(decoded(rewriteInferenceBody(bytes(body), CHAT, policy))).toEqual({
      model: "llama3",
      options: { num_ctx: 8192, num_predict: 4096, temperature: 0 },
      keep_alive: "5m",
    });
    expect(decoded(rewriteInferenceBody(bytes({ model: "llama3" }), CHAT, policy)).options).toEqual({
      num_predict: 4096,
    });
    const within = { model: "llama3", options: { num_ctx: 2048, num_predict: 10 }, keep_alive: "30s" };
    expect(decoded(rewriteInferenceBody(bytes(within), CHAT, policy))).toEqual(within);
    expect(decoded(rewriteInferenceBody(bytes({ model: "llama3", keep_alive: "2h" }), EMBED, policy))).toEqual({
      model: "llama3",
      keep_alive: "5m",
    });
    expect(decoded(rewriteInferenceBody(bytes({ model: "llama3", keep_alive: 3600 }), EMBED, policy)).keep_alive).toBe(
      "5m",
    );
    expect(decoded(rewriteInferenceBody(bytes({ model: "llama3", keep_alive: "-1m" }), EMBED, policy)).keep_alive).toBe(
      "5m",
    );
    expect(decoded(rewriteInferenceBody(bytes({ model: "llama3", keep_alive: 0 }), EMBED, policy)).keep_alive).toBe(0);
  });

  it("refuses options it cannot read instead of passing them on", () => {
    for (const body of [
      { model: "llama3", options: "big" },
      { model: "llama3", options: { num_ctx: "1000000" } },
      { model: "llama3", options: { num_predict: "lots" } },
      { model: "llama3", keep_alive: "forever" },
      { model: "llama3", keep_alive: true },
    ]) {
      expect(rewriteInferenceBody(bytes(body), CHAT, policy)).toMatchObject({ status: 400 });
    }
  });

  it("clamps OpenAI max_tokens and max_completion_tokens, and sets max_tokens on a generating request without one", () => {
    expect(decoded(rewriteInferenceBody(bytes({ model: "llama3", max_tokens: 50_000 }), OPENAI_CHAT, policy))).toEqual({
      model: "llama3",
      max_tokens: 4096,
    });
    expect(
      decoded(rewriteInferenceBody(bytes({ model: "llama3", max_completion_tokens: 9e9 }), OPENAI_CHAT, policy)),
    ).toEqual({ model: "llama3", max_completion_tokens: 4096 });
    expect(decoded(rewriteInferenceBody(bytes({ model: "llama3", max_tokens: null }), OPENAI_CHAT, policy))).toEqual({
      model: "llama3",
      max_tokens: 4096,
    });
    expect(decoded(rewriteInferenceBody(bytes({ model: "llama3", input: "x" }), OPENAI_EMBED, policy))).toEqual({
      model: "llama3",
      input: "x",
    });
    expect(rewriteInferenceBody(bytes({ model: "llama3", max_tokens: "9" }), OPENAI_CHAT, policy)).toMatchObject({
      status: 400,
    });
  });

  it("leaves the caller's object alone", () => {
    const body = { model: "m", options: { num_ctx: 99_999 } };
    expect(clampInferenceOptions(body, CHAT, LIMITS)).toEqual({
      model: "m",
      options: { num_ctx: 8192, num_predict: 4096 },
    });
    expect(body).toEqual({ model: "m", options: { num_ctx: 99_999 } });
  });
});

describe("filtering model lists", () => {
  it("keeps only allowed models in /api/tags and /v1/models answers", () => {
    const tags = { models: [{ name: "llama3:latest" }, { model: "qwen3.5:0.8b" }, { name: "secret:7b" }, 5] };
    expect(JSON.parse(filterModelList("tags", JSON.stringify(tags), policy.allowedModels)!)).toEqual({
      models: [{ name: "llama3:latest" }, { model: "qwen3.5:0.8b" }],
    });
    const models = { object: "list", data: [{ id: "llama3" }, { id: "secret" }] };
    expect(JSON.parse(filterModelList("models", JSON.stringify(models), policy.allowedModels)!)).toEqual({
      object: "list",
      data: [{ id: "llama3" }],
    });
  });

  it("gives up on an answer it cannot read", () => {
    expect(filterModelList("tags", "not json", [])).toBeUndefined();
    expect(filterModelList("models", JSON.stringify({ data: "x" }), [])).toBeUndefined();
  });
});
