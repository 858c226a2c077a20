/** The sidecar's policy over real sockets against the Ollama test double: what a hostile sandbox can and cannot reach. */
import { afterEach, describe, expect, it } from "bun:test";
import { memoryLogger } from "../lib/log";
import { REQUEST_HEAD_TIMEOUT_MS } from "../lib/http-splice";
import { parseUpstream } from "../lib/http-upstream";
import { startOllamaTestServer } from "../testing/ollama-test-server";
import { startListeners } from "./listeners";
import { createProxy, type ProxyOptions } from "./proxy-app";
import { until } from "../testing/until";

const ALLOWED = "qwen3.5:0.8b";
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function setup(proxyOpts: Partial<ProxyOptions> = {}) {
  const upstream = await startOllamaTestServer({ port: 0, models: [ALLOWED, "secret:70b", "llama3:latest"] });
  cleanup.push(() => upstream.stop());
  const proxy = createProxy({
    upstream: parseUpstream(upstream.url!),
    log: memoryLogger(),
    allowedModels: [ALLOWED, "llama3"],
    ...proxyOpts,
  });
  const listeners = await startListeners(proxy, { tcp: { hostname: "127.0.0.1", port: 0 } });
  cleanup.push(() => listeners.stop());
  const port = Number(new URL(listeners.tcpUrl!).port);
  return { upstream, url: listeners.tcpUrl!, port };
}

type Conn = { write(s: string): void; closed: Promise<number>; text(): string; end(): void };

/** A raw TCP client: what it was sent, and when (ms after opening) the proxy closed it. */
async function connect(port: number): Promise<Conn> {
  let text = "";
  const opened = performance.now();
  let closed!: (ms: number) => void;
  const done = new Promise<number>((r) => (closed = r));
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data: (_s, d) => void (text += d.toString()),
      close: () => closed(performance.now() - opened),
      end: (s) => void s.end(),
    },
  });
  return { write: (s) => void socket.write(s), closed: done, text: () => text, end: () => socket.end() };
}

/** Resolves with `p`, or fails with `what` after `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: Timer | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

async function send(port: number, request: string): Promise<string> {
  const c = await connect(port);
  c.write(request);
  await within(c.closed, 5000, "the proxy did not answer and close");
  return c.text();
}

const statusOf = (answer: string) => Number(answer.split(" ")[1]);
const post = (url: string, path: string, body: unknown) =>
  fetch(url + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

const MANAGEMENT: [string, string, unknown][] = [
  ["DELETE", "/api/delete", { model: ALLOWED }],
  ["POST", "/api/copy", { source: ALLOWED, destination: "x" }],
  ["POST", "/api/pull", { model: "evil" }],
  ["POST", "/api/create", { model: "evil", from: ALLOWED }],
  ["POST", "/api/push", { model: ALLOWED }],
  ["POST", "/api/blobs/sha256:0000", ""],
  ["GET", "/api/ps", undefined],
];

describe("inference proxy: only the inference API", () => {
  it("answers each management endpoint 403 problem+json, and the upstream receives none of them", async () => {
    const { url, upstream } = await setup();
    const statuses: Record<string, number> = {};
    for (const [method, path, body] of MANAGEMENT) {
      const res = await fetch(url + path, { method, body: body === undefined ? undefined : JSON.stringify(body) });
      statuses[`${method} ${path}`] = res.status;
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(await res.json()).toMatchObject({
        title: "Forbidden",
        status: 403,
        detail: `${method} ${path} is not part of the inference API this sandbox may use`,
      });
    }
    console.log(
      `management endpoints answered: ${JSON.stringify(statuses)}; reached upstream: ${upstream.requests.length}`,
    );
    expect(Object.values(statuses)).toEqual(MANAGEMENT.map(() => 403));
    expect(upstream.requests).toEqual([]);
  });

  it("refuses path tricks, absolute-form targets and methods off the list, on the wire", async () => {
    const { port, upstream } = await setup();
    const body = JSON.stringify({ model: ALLOWED });
    const tricks = [
      `POST /api//pull HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      `POST /api/chat/../pull HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      `POST /api/%70ull HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      `DELETE /api/delete?x=/api/chat HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      "GET /api/tags/../ps HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /api/chat HTTP/1.1\r\nHost: x\r\n\r\n",
    ];
    for (const t of tricks) expect(statusOf(await send(port, t))).toBe(403);
    // Absolute-form never starts a forwarded request.
    expect(statusOf(await send(port, "POST http://127.0.0.1:11434/api/pull HTTP/1.1\r\nHost: x\r\n\r\n"))).toBe(400);
    expect(upstream.requests).toEqual([]);
  });

  it("never forwards bytes past the request a head announced (no smuggled second request)", async () => {
    const { port, upstream } = await setup();
    const smuggled = "DELETE /api/delete HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
    const answer = await send(port, `GET /api/version HTTP/1.1\r\nHost: x\r\n\r\n${smuggled}`);
    expect(statusOf(answer)).toBe(200);
    const body = JSON.stringify({ model: ALLOWED, prompt: "p", stream: false });
    const chat = `POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}${smuggled}`;
    expect(statusOf(await send(port, chat))).toBe(200);
    expect(upstream.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /api/version", "POST /api/generate"]);
  });

  it("refuses a GET with a body, and a Content-Length that is not a number", async () => {
    const { port, upstream } = await setup();
    expect(statusOf(await send(port, "GET /api/version HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"))).toBe(400);
    expect(statusOf(await send(port, "POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 1\r\n\r\n{"))).toBe(400);
    expect(upstream.requests).toEqual([]);
  });
});

describe("inference proxy: only the job's models", () => {
  it("answers 403 for a model outside the job's list, and the upstream never sees the request", async () => {
    const { url, upstream } = await setup();
    for (const path of ["/api/chat", "/api/generate", "/api/show", "/v1/chat/completions", "/v1/embeddings"]) {
      const res = await post(url, path, { model: "secret:70b", messages: [{ role: "user", content: "hi" }] });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { detail: string }).detail).toBe('model "secret:70b" is not allowed for this job');
    }
    expect(upstream.requests).toEqual([]);
  });

  it("answers 400 for a body that is not JSON on a model route", async () => {
    const { url, upstream } = await setup();
    const res = await post(url, "/api/chat", "{not json");
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ status: 400, detail: "the request body is not valid JSON" });
    expect(upstream.requests).toEqual([]);
  });

  it("lists only the allowed models in /api/tags and /v1/models", async () => {
    const { url } = await setup();
    const tags = (await (await fetch(`${url}/api/tags`)).json()) as { models: { name: string }[] };
    expect(tags.models.map((m) => m.name)).toEqual([ALLOWED, "llama3:latest"]);
    const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual([ALLOWED, "llama3:latest"]);
  });

  it("answers 502 when the upstream's model list cannot be read", async () => {
    const upstream = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("nope", { status: 500 }) });
    cleanup.push(async () => upstream.stop(true));
    const proxy = createProxy({ upstream: parseUpstream(upstream.url.origin), log: memoryLogger(), allowedModels: [] });
    const l = await startListeners(proxy, { tcp: { hostname: "127.0.0.1", port: 0 } });
    cleanup.push(() => l.stop());
    expect((await fetch(`${l.tcpUrl}/api/tags`)).status).toBe(502);
  });

  it("forwards a model request of nearly 10 MiB whole, its body read over many reads", async () => {
    const { url, upstream } = await setup();
    const prompt = "x".repeat(10200 * 1024);
    const res = await post(url, "/api/generate", { model: ALLOWED, prompt, stream: false });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { response: string }).response.length).toBe(`echo: ${prompt}`.length);
    expect(JSON.parse(upstream.requests[0]!.body).prompt).toBe(prompt);
  });

  it("tells a client that expects 100-continue to send its body, then forwards it", async () => {
    const { port, upstream } = await setup();
    const body = JSON.stringify({ model: ALLOWED, prompt: "after continue", stream: false });
    const c = await connect(port);
    c.write(`POST /api/generate HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`);
    await within(
      (async () => {
        await until(() => c.text().includes("100 Continue"), "the `100 Continue` answer");
      })(),
      5000,
      "no 100 Continue came",
    );
    c.write(body);
    await within(c.closed, 5000, "the proxy did not answer and close");
    expect(c.text()).toContain("HTTP/1.1 200");
    expect(c.text()).toContain("echo: after continue");
    expect(upstream.requests[0]!.headers.expect).toBeUndefined();
  });

  it("clamps num_ctx, num_predict, keep_alive and max_tokens to the node's limits in what reaches the upstream", async () => {
    const { url, upstream } = await setup({ limits: { maxTokens: 256, maxContext: 2048, keepAlive: "1m" } });
    const ask = { model: "llama3", prompt: "p", stream: false, options: { num_ctx: 131072, num_predict: -1 } };
    await (await post(url, "/api/generate", { ...ask, keep_alive: "24h" })).arrayBuffer();
    await (await post(url, "/v1/chat/completions", { model: ALLOWED, max_tokens: 100000, messages: [] })).arrayBuffer();
    const [generate, completion] = upstream.requests.map((r) => JSON.parse(r.body));
    expect(generate).toEqual({ ...ask, options: { num_ctx: 2048, num_predict: 256 }, keep_alive: "1m" });
    expect(completion).toEqual({ model: ALLOWED, max_tokens: 256, messages: [] });
    expect(Number(upstream.requests[0]!.headers["content-length"])).toBe(Buffer.byteLength(upstream.requests[0]!.body));
  });
});

describe("inference proxy: fair shares", () => {
  it(
    "closes a connection that sends half a request head, within 15 s",
    async () => {
      const { port, upstream } = await setup();
      const c = await connect(port);
      c.write("POST /api/chat HTTP/1.1\r\nHost: localhost\r\nContent-Le");
      const ms = await within(c.closed, 15_000, "the half-head connection was still open after 15 s");
      console.log(
        `half head closed after ${(ms / 1000).toFixed(2)} s (REQUEST_HEAD_TIMEOUT_MS ${REQUEST_HEAD_TIMEOUT_MS})`,
      );
      expect(c.text()).toBe("");
      expect(upstream.requests).toEqual([]);
    },
    { timeout: 20_000 },
  );

  it("answers 503 past its connection cap and takes new connections once one ends", async () => {
    const { port, url } = await setup({ maxConnections: 2 });
    const held = [await connect(port), await connect(port)];
    for (const h of held) h.write("GET /api/version HTTP/1.1\r\n"); // heads left open: both slots taken
    const third = await send(port, "GET /api/version HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(statusOf(third)).toBe(503);
    expect(third).toContain("too many connections to this proxy (limit 2)");
    held[0]!.end();
    await within(held[0]!.closed, 5000, "the held connection did not close");
    let status = 503;
    // The slot frees when the proxy sees the close; a retry loop with a deadline waits for that event.
    await within(
      (async () => {
        while (status === 503) status = (await fetch(`${url}/api/version`)).status;
      })(),
      5000,
      "no slot came free after a connection closed",
    );
    expect(status).toBe(200);
  });
});
