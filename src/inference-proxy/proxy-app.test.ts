import { afterEach, describe, expect, it } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memoryLogger } from "../lib/log";
import {
  startOllamaTestServer,
  TEST_SERVER_VERSION,
  type OllamaTestServerOptions,
} from "../testing/ollama-test-server";
import { startListeners } from "./listeners";
import { createProxy, type ProxyOptions } from "./proxy-app";
import { parseUpstream } from "../lib/http-upstream";

const MODEL = "qwen3.5:0.8b";
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

/** A real Ollama test double behind a real proxy listening on TCP port 0 and on a Unix socket. */
async function setup(
  upstreamOpts: OllamaTestServerOptions = {},
  proxyOpts: Partial<ProxyOptions> = {},
  upstreamOnSocket = false,
) {
  const dir = await mkdtemp(join(tmpdir(), "inference-proxy-"));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const upstream = await startOllamaTestServer(
    upstreamOnSocket ? { socket: join(dir, "ollama.sock"), ...upstreamOpts } : { port: 0, ...upstreamOpts },
  );
  cleanup.push(() => upstream.stop());
  const log = memoryLogger();
  const proxy = createProxy({
    upstream: parseUpstream(upstream.url ?? `unix:${upstream.socket}`),
    log,
    allowedModels: [MODEL, "missing"],
    ...proxyOpts,
  });
  const socket = join(dir, "run", "inference-proxy.sock");
  const listeners = await startListeners(proxy, { tcp: { hostname: "127.0.0.1", port: 0 }, socket });
  cleanup.push(() => listeners.stop());
  return { upstream, log, proxy: listeners.tcpUrl!, socket };
}

const generate = (base: string, body: unknown, init: BunFetchRequestInit = {}) =>
  fetch(`${base}/api/generate`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    ...init,
  });

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

describe("inference proxy", () => {
  it("answers /healthz itself with 200 ok", async () => {
    const { proxy, upstream } = await setup();
    const res = await fetch(`${proxy}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok");
    expect(upstream.requests).toEqual([]);
  });

  it("forwards requests and answers verbatim, without credentials or hop-by-hop headers", async () => {
    const { proxy, upstream } = await setup();
    const version = await fetch(`${proxy}/api/version?verbose=1`, {
      headers: {
        authorization: "Bearer sandbox-secret",
        cookie: "s=1",
        connection: "x-hop",
        "x-hop": "1",
        "x-keep": "2",
      },
    });
    expect(version.status).toBe(200);
    expect(await version.json()).toEqual({ version: TEST_SERVER_VERSION });
    const seen = upstream.requests[0]!;
    expect(seen.path).toBe("/api/version");
    expect(seen.headers).not.toHaveProperty("authorization");
    expect(seen.headers).not.toHaveProperty("cookie");
    expect(seen.headers).not.toHaveProperty("x-hop");
    expect(seen.headers["x-keep"]).toBe("2");
    expect(seen.headers.host).toBe(new URL(upstream.url!).host);
  });

  it("passes a non-streamed generate body to the upstream and its reply back", async () => {
    const { proxy, upstream } = await setup();
    const res = await generate(proxy, { model: MODEL, prompt: "hello proxy", stream: false });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { response: string }).response).toBe("echo: hello proxy");
    expect(JSON.parse(upstream.requests[0]!.body)).toEqual({
      model: MODEL,
      prompt: "hello proxy",
      stream: false,
      options: { num_predict: 4096 },
    });
  });

  it("passes upstream error statuses and bodies through", async () => {
    const { proxy } = await setup();
    const res = await generate(proxy, { model: "missing", prompt: "x" });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toContain("not found");
  });

  it("streams NDJSON chunk by chunk: the first arrives while the upstream is still generating", async () => {
    const hold = gate();
    const { proxy } = await setup({ beforeChunk: (i) => (i === 1 ? hold.opened : Promise.resolve()) });
    const res = await generate(proxy, { model: MODEL, prompt: "one two three" });
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(JSON.parse(first)).toMatchObject({ response: "echo: ", done: false });
    hold.open();
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    const lines = rest
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.response).join("")).toBe("one two three");
    expect(lines.at(-1).done).toBe(true);
  });

  it("serves its Unix socket and reaches a Unix-socket upstream", async () => {
    const { socket, upstream } = await setup({}, {}, true);
    const res = await generate(
      "http://localhost",
      { model: MODEL, prompt: "via sockets", stream: false },
      { unix: socket },
    );
    expect(((await res.json()) as { response: string }).response).toBe("echo: via sockets");
    expect(upstream.requests[0]!.headers.host).toBe("localhost");
  });
});

describe("inference proxy limits", () => {
  it("rejects a declared body over 10 MiB with 413 before contacting the upstream", async () => {
    const { proxy, upstream } = await setup();
    const res = await fetch(`${proxy}/api/generate`, { method: "POST", body: new Uint8Array(32 * 1024 * 1024) }); // far past the limit, past any server-level cap too
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(((await res.json()) as { detail: string }).detail).toContain("request body too large");
    expect(upstream.requests).toEqual([]);
  });

  it("refuses a chunked body on a model route with 400: its model is checked on a Content-Length body only", async () => {
    const { proxy } = await setup({}, { maxBodyBytes: 64 * 1024 });
    const text = JSON.stringify({ model: MODEL, prompt: "chunked", stream: false });
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode(text.slice(0, 10)));
        c.enqueue(new TextEncoder().encode(text.slice(10)));
        c.close();
      },
    });
    const res = await fetch(`${proxy}/api/generate`, { method: "POST", body });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toContain("Content-Length");
  });

  it("answers 504 problem when the upstream does not answer within the deadline", async () => {
    const never = gate();
    cleanup.push(async () => never.open());
    const { proxy } = await setup({ beforeReply: () => never.opened }, { timeoutMs: 100 });
    const res = await generate(proxy, { model: MODEL, prompt: "slow", stream: false });
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ type: "urn:cynodeai:error:timeout", status: 504 });
  });

  it("cuts a stream that outlives the deadline", async () => {
    const never = gate();
    cleanup.push(async () => never.open());
    const { proxy, log } = await setup(
      { beforeChunk: (i) => (i === 1 ? never.opened : Promise.resolve()) },
      { timeoutMs: 200 },
    );
    const res = await generate(proxy, { model: MODEL, prompt: "long answer" });
    expect(res.status).toBe(200);
    const outcome = await res.text().then(
      (text) => text,
      () => "cut",
    );
    // Either the connection breaks or the body ends early: the final `done` line never arrives.
    expect(outcome).not.toContain('"done":true');
    expect(log.lines.find((l) => l.msg === "upstream response cut")).toMatchObject({
      path: "/api/generate",
      reason: "deadline",
    });
  });
});

describe("inference proxy failures and logs", () => {
  it("answers 502 problem when the upstream is unreachable", async () => {
    const dir = await mkdtemp(join(tmpdir(), "inference-proxy-"));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const log = memoryLogger();
    const proxy = createProxy({ upstream: parseUpstream(`unix:${join(dir, "absent.sock")}`), log, allowedModels: [] });
    const listeners = await startListeners(proxy, { tcp: { hostname: "127.0.0.1", port: 0 } });
    cleanup.push(() => listeners.stop());
    const res = await fetch(`${listeners.tcpUrl}/api/version`);
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({
      type: "urn:cynodeai:error:upstream",
      status: 502,
      detail: "inference upstream unreachable",
    });
    expect(log.lines.some((l) => l.msg === "upstream request failed")).toBe(true);
  });

  it("logs each request without headers", async () => {
    const { proxy, log } = await setup();
    await fetch(`${proxy}/api/version`, { headers: { authorization: "Bearer nope" } });
    const line = log.lines.find((l) => l.msg === "request")!;
    expect(line).toMatchObject({ method: "GET", path: "/api/version", status: 200 });
    expect(JSON.stringify(log.lines)).not.toContain("nope");
  });
});
