/**
 * Failure paths of the OpenAI-compatible routes, each answered in OpenAI's error shape: a real gateway on a real
 * database, nodes registered in it, a real Worker API app relaying to the Ollama TEST DOUBLE on a Unix socket.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { join } from "node:path";
import { memoryLogger } from "../../lib/log";
import { serveApp } from "../../lib/serve";
import { CHAT_NODE_TOKEN as TOKEN, startChatNode, type ChatNode } from "../../testing/chat-node-fixture";
import { freePort } from "../../testing/free-port";
import { startGatewayFixture, type GatewayFixture } from "../../testing/gateway-fixture";
import { createWorkerApi } from "../../worker-node/worker-api/app";

let node: ChatNode;
let release: () => void = () => {};

async function gatewayWith(chat: Record<string, unknown>): Promise<{ g: GatewayFixture; token: string }> {
  const g = await startGatewayFixture({ deps: { chat: { openToken: (s: string) => s, ...chat } } });
  return { g, token: (await g.login("alice")).access_token };
}

const ask = (g: GatewayFixture, token: string, body: unknown) =>
  g.call("POST", "/v1/chat/completions", { token, body });
/** A one-message chat request, naming `model` when given. */
const userSaysX = (model?: string) => ({
  ...(model === undefined ? {} : { model }),
  messages: [{ role: "user", content: "x" }],
});

async function expectError(res: Response, status: number, code: string | null) {
  const body = (await res.json()) as { error: Record<string, unknown> };
  expect([res.status, body.error.code, typeof body.error.message, "param" in body.error]).toEqual([
    status,
    code,
    "string",
    true,
  ]);
  return body.error;
}

beforeAll(async () => {
  node = await startChatNode({
    models: ["m1"],
    beforeReply: () => new Promise<void>((resolve) => (release = resolve)),
  });
});

afterAll(async () => {
  release();
  await node?.stop();
});

describe("OpenAI-compatible routes when things go wrong", () => {
  it("answers 503 when no live node runs inference, and 429 past the per-user rate limit", async () => {
    const { g, token } = await gatewayWith({ rateLimitPerMinute: 2 });
    try {
      await node.register(g.t.db, "stale-node", { at: new Date(Date.now() - 3_600_000) });
      await expectError(await ask(g, token, userSaysX()), 503, "cynodeai_no_inference_node");
      expect((await g.call("GET", "/v1/models", { token })).status).toBe(200);
      await ask(g, token, userSaysX());
      const limited = await ask(g, token, userSaysX());
      expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
      const e = await expectError(limited, 429, "rate_limit_exceeded");
      expect(e.type).toBe("rate_limit_error");
    } finally {
      await g.close();
    }
  });

  it("answers 400 for a body that is not JSON, 413 for an oversize body, 503 when live nodes serve no model", async () => {
    const { g, token } = await gatewayWith({});
    try {
      await node.register(g.t.db, "live-node", { models: [] });
      await expectError(await g.call("POST", "/v1/chat/completions", { token, raw: "{nope" }), 400, "invalid_request");
      const big = { messages: [{ role: "user", content: "x".repeat(11 * 1024 * 1024) }] };
      await expectError(await ask(g, token, big), 413, "request_too_large");
      // A live node that serves no model: neither a chat naming none nor one naming the default has a node.
      await expectError(await ask(g, token, userSaysX()), 503, "cynodeai_no_inference_node");
      await expectError(await ask(g, token, userSaysX("test-model")), 503, "cynodeai_no_inference_node");
    } finally {
      await g.close();
    }
  });
});

describe("OpenAI-compatible routes when the node fails", () => {
  it("answers 502 when the node cannot be reached, after trying every node that has the model", async () => {
    const { g, token } = await gatewayWith({});
    try {
      await node.register(g.t.db, "dead-a", { url: `http://127.0.0.1:${freePort()}` });
      await node.register(g.t.db, "dead-b", { url: `http://127.0.0.1:${freePort()}` });
      const e = await expectError(await ask(g, token, userSaysX("m1")), 502, "cynodeai_inference_failed");
      expect(e.type).toBe("cynodeai_error");
    } finally {
      await g.close();
    }
  });

  it("answers 404 when the node's Ollama no longer has a reported model, and 504 past the deadline", async () => {
    const { g, token } = await gatewayWith({ timeoutMs: 500 });
    try {
      await node.register(g.t.db, "stale-models", { models: ["m1", "gone"] });
      await expectError(await ask(g, token, userSaysX("gone")), 404, "model_not_found");
      await expectError(await ask(g, token, userSaysX("m1")), 504, "cynodeai_completion_timeout");
      const rows = await g.t.db.selectFrom("chat_audit_log").select(["outcome", "status_code"]).execute();
      expect(rows.map((r) => [r.status_code, r.outcome]).sort()).toEqual([
        [404, "model_not_found"],
        [504, "cynodeai_completion_timeout"],
      ]);
    } finally {
      await g.close();
    }
  });

  it("refuses a Worker API chat with a bad body or while inference is not running", async () => {
    const app = createWorkerApi({
      runner: { run: async () => Promise.reject(new Error("unused")), cancel: async () => false },
      bearerToken: () => TOKEN,
      notReadyReason: () => null,
      log: memoryLogger("worker"),
    });
    const post = (body: unknown) =>
      app.request("/v1/worker/inference:chat", {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await post({ model: "m1", messages: [], stream: false })).status).toBe(503);
    const other = serveApp(
      createWorkerApi({
        runner: { run: async () => Promise.reject(new Error("unused")), cancel: async () => false },
        bearerToken: () => TOKEN,
        notReadyReason: () => null,
        log: memoryLogger("worker"),
        relaySocket: () => join(node.ollama.socket!, "..", "absent.sock"),
      }),
      { hostname: "127.0.0.1", port: 0 },
    );
    try {
      const call = (body: unknown) =>
        fetch(`${other.url.origin}/v1/worker/inference:chat`, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      expect((await call({ messages: [] })).status).toBe(400);
      expect((await call({ model: "m1", messages: [], stream: false })).status).toBe(502);
    } finally {
      await other.stop();
    }
  });
});
