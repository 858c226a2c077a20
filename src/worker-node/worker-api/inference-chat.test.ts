import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { WORKER_API } from "../../contracts/routes";
import { CHAT_NODE_TOKEN, startChatNode, type ChatNode } from "../../testing/chat-node-fixture";

let node: ChatNode;
beforeAll(async () => {
  node = await startChatNode();
});
afterAll(() => node.stop());

const chat = (body: unknown) =>
  fetch(node.url + WORKER_API.inferenceChat.path(), {
    method: "POST",
    headers: { authorization: `Bearer ${CHAT_NODE_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("POST /v1/worker/inference:chat", () => {
  it("clamps the generation options to the node's limits before Ollama sees them", async () => {
    const messages = [{ role: "user", content: "hi" }];
    const res = await chat({
      model: "qwen3.5:0.8b",
      messages,
      stream: false,
      options: { num_predict: 1_000_000, num_ctx: 1_000_000, temperature: 0 },
      keep_alive: -1,
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(node.ollama.requests.at(-1)!.body)).toEqual({
      model: "qwen3.5:0.8b",
      messages,
      stream: false,
      options: { num_predict: 4096, num_ctx: 8192, temperature: 0 },
      keep_alive: "5m",
    });
  });

  it("answers 400 for options it cannot read, and Ollama is not asked", async () => {
    const before = node.ollama.requests.length;
    const res = await chat({ model: "qwen3.5:0.8b", messages: [], stream: false, options: { num_ctx: "huge" } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toBe("options.num_ctx must be a number");
    expect(node.ollama.requests.length).toBe(before);
  });
});
