import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtemp, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memoryLogger } from "../../lib/log";
import { startOllamaTestServer, testReply, type OllamaTestServer } from "../../testing/ollama-test-server";
import { createNodeMetrics, type NodeMetrics } from "../metrics";
import { startUpstreamRelay } from "./relay";

let upstream: OllamaTestServer;
let release = () => {};
beforeAll(async () => {
  // Chunk 2 waits for the test's go-ahead, so a relay that buffered would never deliver chunk 1 first.
  const gate = new Promise<void>((resolve) => (release = resolve));
  upstream = await startOllamaTestServer({ port: 0, beforeChunk: (i) => (i === 2 ? gate : Promise.resolve()) });
});
afterAll(() => upstream.stop());

async function relayTo(url: string, metrics?: NodeMetrics) {
  const socket = join(await mkdtemp(join(tmpdir(), "cynode-relay-test-")), "relay", "ollama.sock");
  const log = memoryLogger("relay");
  return { relay: await startUpstreamRelay({ socket, upstreamUrl: `${url}/`, log, metrics }), log };
}

describe("upstream relay (Unix socket → Ollama TCP)", () => {
  it("forwards requests, streams answers, and drops credentials", async () => {
    const { relay } = await relayTo(upstream.url!);
    try {
      expect(((await stat(relay.socket)).mode & 0o777).toString(8)).toBe("600");
      const tags = await fetch("http://localhost/api/tags?x=1", {
        unix: relay.socket,
        headers: { authorization: "Bearer leak" },
      });
      expect(((await tags.json()) as { models: { name: string }[] }).models.map((m) => m.name)).toEqual([
        "qwen3.5:0.8b",
      ]);
      expect(upstream.requests.at(-1)?.headers.authorization).toBeUndefined();

      const res = await fetch("http://localhost/api/generate", {
        unix: relay.socket,
        method: "POST",
        body: JSON.stringify({ model: "qwen3.5:0.8b", prompt: "a b c" }),
      });
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = decoder.decode((await reader.read()).value);
      while (text.split("\n").length < 3) text += decoder.decode((await reader.read()).value);
      release();
      for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value);
      const lines = text
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { response: string });
      expect(lines.map((l) => l.response).join("")).toBe(testReply("a b c"));
    } finally {
      await relay.stop();
    }
    expect(await Bun.file(relay.socket).exists()).toBe(false);
  });

  it("answers 502 and logs when the upstream cannot be reached", async () => {
    const { relay, log } = await relayTo("http://127.0.0.1:1");
    try {
      const res = await fetch("http://localhost/api/tags", { unix: relay.socket });
      expect([res.status, await res.text()]).toEqual([502, "inference upstream unreachable\n"]);
      expect(log.lines.map((l) => l.msg)).toContain("inference relay: upstream request failed");
    } finally {
      await relay.stop();
    }
  });

  it("counts each relayed request and the bytes each way", async () => {
    const metrics = createNodeMetrics();
    const { relay } = await relayTo(upstream.url!, metrics);
    const read = async (name: string, direction?: string) => {
      const m = (await metrics.registry.getMetricsAsJSON()).find((f) => f.name === name);
      return ((m?.values ?? []) as { value: number; labels: { direction?: string } }[]).find(
        (v) => v.labels.direction === direction,
      )?.value;
    };
    try {
      const body = JSON.stringify({ model: "qwen3.5:0.8b", prompt: "count me", stream: false });
      const res = await fetch("http://localhost/api/generate", { unix: relay.socket, method: "POST", body });
      const answer = await res.arrayBuffer();
      await (await fetch("http://localhost/api/tags", { unix: relay.socket })).arrayBuffer();
      expect(await read("cynode_inference_requests_total")).toBe(2);
      expect(await read("cynode_inference_bytes_total", "request")).toBe(Buffer.byteLength(body));
      expect(await read("cynode_inference_bytes_total", "response")).toBeGreaterThan(answer.byteLength);
    } finally {
      await relay.stop();
    }
  });
});

describe("upstream relay: the inference API only, heads in time", () => {
  it("refuses what is not the inference API with 403, as the sidecars do, and forwards the normalised path", async () => {
    const { relay } = await relayTo(upstream.url!);
    const before = upstream.requests.length;
    try {
      for (const [method, path] of [
        ["DELETE", "/api/delete"],
        ["POST", "/api/pull"],
        ["POST", "/api/copy"],
        ["POST", "/api/create"],
        ["POST", "/api/push"],
        ["POST", "/api//pull"],
      ] as const) {
        const res = await fetch(`http://localhost${path}`, { unix: relay.socket, method, body: "{}" });
        expect(res.status).toBe(403);
        expect(await res.text()).toMatch(/not part of the inference API|ambiguous request path/);
      }
      expect(upstream.requests.length).toBe(before);
      await (await fetch("http://localhost/api/version?x=1", { unix: relay.socket })).arrayBuffer();
      expect(upstream.requests.slice(before).map((r) => r.path)).toEqual(["/api/version"]);
    } finally {
      await relay.stop();
    }
  });

  it(
    "closes a connection whose request head is not complete in time, within 15 s",
    async () => {
      const { relay } = await relayTo(upstream.url!);
      try {
        const opened = performance.now();
        let closed!: () => void;
        const gone = new Promise<void>((r) => (closed = r));
        await Bun.connect({
          unix: relay.socket,
          socket: { open: (s) => void s.write("GET /api/ta"), data() {}, close: () => closed() },
        });
        let timer: Timer | undefined;
        await Promise.race([
          gone,
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("still open after 15 s")), 15_000))),
        ]).finally(() => clearTimeout(timer));
        console.log(`relay: half head closed after ${((performance.now() - opened) / 1000).toFixed(2)} s`);
      } finally {
        await relay.stop();
      }
    },
    { timeout: 20_000 },
  );
});
