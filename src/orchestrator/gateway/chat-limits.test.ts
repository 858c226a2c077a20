/**
 * The chat limits of `POST /v1/chat/completions` on a real gateway and database, with a real Worker API app relaying
 * to the Ollama TEST DOUBLE: a user's chats in flight (429 beyond, released however a chat ends), `max_tokens` clamped
 * as the node sees it, and a node's in-flight count released when it refuses a streamed chat.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "bun:test";
import { startChatNode, type ChatNode } from "../../testing/chat-node-fixture";
import { freePort } from "../../testing/free-port";
import { startGatewayFixture, type GatewayFixture } from "../../testing/gateway-fixture";
import { until } from "../../testing/until";

/** A gate the double waits at while it is shut. */
function gate() {
  let open = () => {};
  let passed = Promise.resolve();
  return {
    shut: () => void (passed = new Promise<void>((resolve) => (open = resolve))),
    open: () => open(),
    wait: () => passed,
  };
}
const reply = gate();
const secondChunk = gate();

let node: ChatNode;
let g: GatewayFixture;
let token: string;

beforeAll(async () => {
  node = await startChatNode({
    models: ["m1"],
    beforeReply: () => reply.wait(),
    beforeChunk: (i) => (i === 1 ? secondChunk.wait() : Promise.resolve()),
  });
  g = await startGatewayFixture({
    deps: { chat: { openToken: (s: string) => s, maxInFlightPerUser: 1, maxTokens: 100, rateLimitPerMinute: 1000 } },
  });
  token = (await g.login("alice")).access_token;
  await node.register(g.t.db, "a-node", { models: ["m1", "gone"] });
});
afterEach(() => {
  reply.open();
  secondChunk.open();
});
afterAll(async () => {
  await g?.close();
  await node?.stop();
});

const chatRequests = () => node.ollama.requests.filter((r) => r.path === "/api/chat");
const ask = (body: Record<string, unknown>, signal?: AbortSignal) =>
  fetch(g.url("/v1/chat/completions"), {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "m1", messages: [{ role: "user", content: "hi" }], ...body }),
    signal,
  });

/** Whether alice may start a chat now: an empty `messages` is refused with 400 once admitted, 429 when not. */
const admitted = async () => (await ask({ messages: [] })).status === 400;

describe("POST /v1/chat/completions: chats in flight per user", () => {
  it("answers 429 rate_limit_exceeded while the user's one chat runs, and admits again once it answered", async () => {
    reply.shut();
    const before = chatRequests().length;
    const first = ask({});
    await until(() => chatRequests().length > before, "the first chat at the node");
    const refused = await ask({});
    expect([refused.status, refused.headers.get("retry-after")]).toEqual([429, "1"]);
    expect(((await refused.json()) as { error: unknown }).error).toEqual({
      message: "Too many chat requests in flight (at most 1 per user); retry when one has finished",
      type: "rate_limit_error",
      param: null,
      code: "rate_limit_exceeded",
    });
    reply.open();
    expect((await first).status).toBe(200);
    expect(await admitted()).toBe(true);
    expect((await ask({})).status).toBe(200);
  });

  it("releases the chat of a client that went away before the node answered", async () => {
    reply.shut();
    const before = chatRequests().length;
    const client = new AbortController();
    const first = ask({}, client.signal).catch((err: Error) => err.name);
    await until(() => chatRequests().length > before, "the chat at the node");
    expect(await admitted()).toBe(false);
    client.abort();
    expect(await first).toBe("AbortError");
    await until(admitted, "alice admitted again");
  });

  it("releases a streamed chat whose client went away mid-stream, and one that streamed to the end", async () => {
    secondChunk.shut();
    const client = new AbortController();
    const res = await ask({ stream: true }, client.signal);
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toStartWith("data: ");
    expect(await admitted()).toBe(false);
    client.abort();
    await until(admitted, "alice admitted after the stream was dropped");
    secondChunk.open();
    const whole = await (await ask({ stream: true })).text();
    expect(whole.trimEnd()).toEndWith("data: [DONE]");
    expect(await admitted()).toBe(true);
  });

  it("releases a chat that failed (no node reachable) and one the node refused", async () => {
    const h = await startGatewayFixture({
      deps: { chat: { openToken: (s: string) => s, maxInFlightPerUser: 1, rateLimitPerMinute: 1000 } },
    });
    try {
      const t = (await h.login("bob")).access_token;
      await node.register(h.t.db, "dead", { url: `http://127.0.0.1:${freePort()}`, models: ["m1"] });
      const call = (body: Record<string, unknown>) =>
        h.call("POST", "/v1/chat/completions", {
          token: t,
          body: { model: "m1", messages: [{ role: "user", content: "x" }], ...body },
        });
      expect((await call({})).status).toBe(502);
      expect((await call({ messages: [] })).status).toBe(400);
    } finally {
      await h.close();
    }
    expect((await ask({ model: "gone", stream: true })).status).toBe(404);
    expect(await admitted()).toBe(true);
  });
});

describe("POST /v1/chat/completions: max_tokens", () => {
  it("clamps max_tokens (and max_completion_tokens) to CHAT_MAX_TOKENS, and sends the cap when none is asked", async () => {
    const numPredict = async (body: Record<string, unknown>) => {
      expect((await ask(body)).status).toBe(200);
      return JSON.parse(chatRequests().at(-1)!.body).options.num_predict;
    };
    expect(await numPredict({ max_tokens: 5000 })).toBe(100);
    expect(await numPredict({ max_completion_tokens: 100_000, max_tokens: 7 })).toBe(100);
    expect(await numPredict({ max_tokens: 7 })).toBe(7);
    expect(await numPredict({ max_tokens: -1 })).toBe(1);
    expect(await numPredict({})).toBe(100);
  });
});

describe("POST /v1/chat/completions: a node's chats in flight", () => {
  it("no longer counts a streamed chat the node refused, so the node is not passed over afterwards", async () => {
    const h = await startGatewayFixture({ deps: { chat: { openToken: (s: string) => s, rateLimitPerMinute: 1000 } } });
    try {
      const t = (await h.login("bob")).access_token;
      const ids = {
        [await node.register(h.t.db, "a-node", { models: ["m1", "gone"] })]: "a",
        [await node.register(h.t.db, "b-node", { models: ["m1", "gone"] })]: "b",
      };
      const call = (body: Record<string, unknown>) =>
        h.call("POST", "/v1/chat/completions", {
          token: t,
          body: { messages: [{ role: "user", content: "x" }], ...body },
        });
      // Equal loads keep the nodes' order (a first); a leaked count on a would send the next chat to b.
      expect((await call({ model: "gone", stream: true })).status).toBe(404);
      expect((await call({ model: "m1" })).status).toBe(200);
      const rows = await h.t.db
        .selectFrom("chat_audit_log")
        .select(["node_id", "outcome"])
        .orderBy("created_at")
        .execute();
      expect(rows.map((r) => [ids[r.node_id!], r.outcome])).toEqual([
        ["a", "model_not_found"],
        ["a", "completed"],
      ]);
    } finally {
      await h.close();
    }
  });
});
