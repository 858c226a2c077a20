import { afterEach, describe, expect, it } from "bun:test";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  goJson,
  SCRIPT_DONE,
  replyChunks,
  startOllamaTestServer,
  TEST_SERVER_VERSION,
  testReply,
  type OllamaTestServer,
} from "./ollama-test-server";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function start(opts: Parameters<typeof startOllamaTestServer>[0] = { port: 0 }): Promise<OllamaTestServer> {
  const server = await startOllamaTestServer(opts);
  cleanup.push(() => server.stop());
  return server;
}

const post = (url: string, body: unknown, init: RequestInit = {}) =>
  fetch(url, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" }, ...init });

async function ndjson(res: Response): Promise<Record<string, any>[]> {
  return (await res.text())
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
}

describe("Ollama test double: the API", () => {
  it("lists its models and version", async () => {
    const s = await start({ port: 0, models: ["a:1", "b:2"], now: () => new Date("2026-01-02T03:04:05Z") });
    const tags = (await (await fetch(`${s.url}/api/tags`)).json()) as any;
    expect(tags.models.map((m: { name: string }) => m.name)).toEqual(["a:1", "b:2"]);
    expect(tags.models[0].modified_at).toBe("2026-01-02T03:04:05.000Z");
    expect(await (await fetch(`${s.url}/v1/models`)).json()).toEqual({
      object: "list",
      data: ["a:1", "b:2"].map((id) => ({ id, object: "model", created: 1767323045, owned_by: "library" })),
    });
    expect(await (await fetch(`${s.url}/api/version`)).json()).toEqual({ version: TEST_SERVER_VERSION });
    expect(await (await fetch(`${s.url}/`)).text()).toBe("Ollama is running");
  });

  it("answers a non-streamed generate with one JSON object echoing the prompt", async () => {
    const s = await start();
    const res = await post(`${s.url}/api/generate`, { model: "qwen3.5:0.8b", prompt: "hi there", stream: false });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ model: "qwen3.5:0.8b", response: "echo: hi there", done: true, done_reason: "stop" });
    expect(s.requests.at(-1)).toMatchObject({ method: "POST", path: "/api/generate" });
  });

  it("streams generate as NDJSON chunks by default, the last one done", async () => {
    const s = await start();
    const lines = await ndjson(await post(`${s.url}/api/generate`, { model: "qwen3.5:0.8b", prompt: "one two three" }));
    expect(lines.length).toBe(replyChunks(testReply("one two three")).length + 1);
    expect(lines.map((l) => l.response).join("")).toBe("echo: one two three");
    expect(lines.at(-1)).toMatchObject({ done: true, response: "" });
    expect(lines.slice(0, -1).every((l) => l.done === false)).toBe(true);
  });

  it("answers chat from the last user message, streamed or not", async () => {
    const s = await start({ port: 0, chunkDelayMs: 1 });
    const messages = [
      { role: "user", content: "first" },
      { role: "assistant", content: "x" },
      { role: "user", content: "second one" },
    ];
    const single = (await (
      await post(`${s.url}/api/chat`, { model: "qwen3.5:0.8b", messages, stream: false })
    ).json()) as any;
    expect(single.message).toEqual({ role: "assistant", content: "echo: second one" });
    const lines = await ndjson(await post(`${s.url}/api/chat`, { model: "qwen3.5:0.8b", messages, stream: true }));
    expect(lines.map((l) => l.message.content).join("")).toBe("echo: second one");
  });
});

describe("Ollama test double: test controls and listeners", () => {
  it("holds a stream open until the test releases it", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const s = await start({ port: 0, beforeChunk: (i) => (i === 1 ? gate : Promise.resolve()) });
    const res = await post(`${s.url}/api/generate`, { model: "qwen3.5:0.8b", prompt: "a b" });
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(JSON.parse(first)).toMatchObject({ response: "echo: ", done: false });
    release();
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    expect(rest).toContain('"done":true');
  });

  it("rejects unknown models, missing models and bad JSON like Ollama", async () => {
    const s = await start();
    const unknown = await post(`${s.url}/api/generate`, { model: "nope", prompt: "x" });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error).toContain('model "nope" not found');
    expect((await post(`${s.url}/api/chat`, { messages: [] })).status).toBe(400);
    const bad = await fetch(`${s.url}/api/generate`, { method: "POST", body: "{" });
    expect(bad.status).toBe(400);
    expect((await fetch(`${s.url}/api/nothing`)).status).toBe(404);
  });

  it("listens on a Unix socket only when no port is given", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ollama-double-"));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const socket = join(dir, "ollama.sock");
    await Bun.write(socket, "stale");
    const s = await start({ socket });
    expect(s.url).toBeUndefined();
    expect((await stat(socket)).isSocket()).toBe(true);
    const res = await fetch("http://localhost/api/version", { unix: socket });
    expect(((await res.json()) as any).version).toBe(TEST_SERVER_VERSION);
  });

  it("waits for beforeReply before answering", async () => {
    let calls = 0;
    const s = await start({ port: 0, beforeReply: async () => void calls++ });
    await post(`${s.url}/api/generate`, { model: "qwen3.5:0.8b", prompt: "x", stream: false });
    expect(calls).toBe(1);
  });
});

describe("goJson", () => {
  it("escapes HTML-sensitive characters and line separators as Go's encoder does", () => {
    const text = goJson({ s: "<a & b>\u2028" });
    expect(text).toBe('{"s":"\\u003ca \\u0026 b\\u003e\\u2028"}');
    expect(JSON.parse(text)).toEqual({ s: "<a & b>\u2028" });
  });
});

type ChatAnswer = {
  message: { role: string; content: string; tool_calls?: unknown[] };
  prompt_eval_count: number;
  eval_count: number;
  done: boolean;
};

describe("Ollama test double: scripted tool-calling chats", () => {
  const scripts = {
    "[two-turns]": [
      { tool_calls: [{ name: "run_command", arguments: { argv: ["ls"] } }], prompt_eval_count: 11, eval_count: 3 },
      (m: { role?: string; content?: string }[]) => ({
        content: `saw ${m.findLast((x) => x.role === "tool")?.content}`,
      }),
    ],
  };
  const chat = (url: string, messages: unknown[]) =>
    post(`${url}/api/chat`, { model: "qwen3.5:0.8b", messages, stream: false }).then(
      (r) => r.json() as Promise<ChatAnswer>,
    );

  it("answers the n-th model turn with the script's n-th reply, with its token counts", async () => {
    const s = await start({ port: 0, scripts });
    const first = await chat(s.url!, [{ role: "user", content: "go [two-turns]" }]);
    expect(first.message.tool_calls).toEqual([{ function: { name: "run_command", arguments: { argv: ["ls"] } } }]);
    expect([first.prompt_eval_count, first.eval_count, first.done]).toEqual([11, 3, true]);
    const history = [
      { role: "user", content: "go [two-turns]" },
      { role: "assistant", content: "", tool_calls: first.message.tool_calls },
      { role: "tool", content: "a.txt" },
    ];
    expect((await chat(s.url!, history)).message).toEqual({ role: "assistant", content: "saw a.txt" });
    const past = [...history, { role: "assistant", content: "saw a.txt" }];
    expect((await chat(s.url!, past)).message.content).toBe(SCRIPT_DONE);
  });

  it("answers a scripted error as Ollama does", async () => {
    const s = await start({ port: 0, scripts: { "[err]": [{ status: 500, error: "broken" }] } });
    const res = await post(`${s.url}/api/chat`, {
      model: "qwen3.5:0.8b",
      messages: [{ role: "user", content: "[err]" }],
    });
    expect([res.status, await res.json()]).toEqual([500, { error: "broken" }]);
  });

  it("echoes as before when no script's marker is in the first user message", async () => {
    const s = await start({ port: 0, scripts });
    expect((await chat(s.url!, [{ role: "user", content: "hi" }])).message.content).toBe(testReply("hi"));
  });
});
