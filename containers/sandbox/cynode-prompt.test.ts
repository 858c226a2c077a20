/** Runs the prompt client under busybox (the sandbox image's only tools) against the Ollama test double. */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createProxy } from "../../src/inference-proxy/proxy-app";
import { startListeners, type Listeners } from "../../src/inference-proxy/listeners";
import { parseUpstream } from "../../src/lib/http-upstream";
import { memoryLogger } from "../../src/lib/log";
import { startOllamaTestServer, type OllamaTestServer } from "../../src/testing/ollama-test-server";
import { staticBusybox } from "../../src/worker-node/images/busybox";

const SCRIPT = join(import.meta.dir, "cynode-prompt");
let bin: string;
let upstream: OllamaTestServer;
let proxy: Listeners;

beforeAll(async () => {
  // A PATH holding busybox applets only, as in the sandbox image.
  bin = await mkdtemp(join(tmpdir(), "cynode-prompt-bin-"));
  const busybox = await staticBusybox({ log: () => {} });
  for (const applet of ["sh", "awk", "wget", "mktemp", "rm", "tail"]) await symlink(busybox, join(bin, applet));
  upstream = await startOllamaTestServer({ port: 0 });
  const app = createProxy({
    upstream: parseUpstream(upstream.url!),
    log: memoryLogger(),
    allowedModels: ["qwen3.5:0.8b", "missing:1b"],
  });
  proxy = await startListeners(app, { tcp: { hostname: "127.0.0.1", port: 0 } });
});

afterAll(async () => {
  await proxy.stop();
  await upstream.stop();
  await rm(bin, { recursive: true, force: true });
});

async function prompt(env: Record<string, string>) {
  const p = Bun.spawn([join(bin, "sh"), SCRIPT], { env: { PATH: bin, ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { stdout, stderr, code };
}

/** A canned upstream for reply shapes the double does not produce. */
async function withReply(body: string, run: (base: string) => Promise<void>) {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(body) });
  try {
    await run(`http://127.0.0.1:${server.port}/`);
  } finally {
    await server.stop(true);
  }
}

const TRICKY =
  'line one\nline "two" with back\\slash\tand tab\r\n\u0001\u001f ctl, é 日本 😀, <b>&amp;</b>, trailing newline\n';

describe("cynode-prompt (busybox sh)", () => {
  it("sends the prompt JSON-escaped through the proxy and prints the reply text exactly", async () => {
    const r = await prompt({ CYNODE_PROMPT: TRICKY, OLLAMA_BASE_URL: proxy.tcpUrl! });
    expect(r).toEqual({ stdout: `echo: ${TRICKY}\n`, stderr: "", code: 0 });
    const sent = upstream.requests.at(-1)!;
    expect(sent.path).toBe("/api/generate");
    // The proxy adds the node's token limit to a request that sets none.
    expect(JSON.parse(sent.body)).toEqual({
      model: "qwen3.5:0.8b",
      prompt: TRICKY,
      stream: false,
      options: { num_predict: 4096 },
    });
  });

  it("round-trips a large prompt of many lines", async () => {
    const big = Array.from({ length: 2000 }, (_, i) => `line ${i}: "quoted" \\ <tag>`).join("\n");
    const r = await prompt({ CYNODE_PROMPT: big, OLLAMA_BASE_URL: proxy.tcpUrl! });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`echo: ${big}\n`);
  });

  it("uses CYNODE_INFERENCE_MODEL, and reports an unknown model as an Ollama error", async () => {
    const r = await prompt({
      CYNODE_PROMPT: "hi",
      CYNODE_INFERENCE_MODEL: "missing:1b",
      OLLAMA_BASE_URL: upstream.url!,
    });
    expect(JSON.parse(upstream.requests.at(-1)!.body).model).toBe("missing:1b");
    expect(r.code).toBe(1);
    expect(r.stdout).toStartWith("[Ollama error] ");
    expect(r.stdout).toContain("404");
  });

  it("fails with exit 1 when the inference service is unreachable or the prompt is empty", async () => {
    const down = await prompt({ CYNODE_PROMPT: "hi", OLLAMA_BASE_URL: "http://127.0.0.1:1" });
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/^\[Ollama error\] .*http:\/\/127\.0\.0\.1:1\/api\/generate\)\n$/);
    expect(await prompt({ OLLAMA_BASE_URL: upstream.url! })).toMatchObject({
      code: 1,
      stdout: "[Ollama error] CYNODE_PROMPT is empty\n",
    });
  });

  it("decodes \\u escapes, surrogate pairs and the short escapes", async () => {
    await withReply(
      '{"model":"m","response":"\\u003cok\\u003e \\ud83d\\ude00 \\u00e9\\/\\b\\f\\"x\\"","done":true,"context":[1,2,3]}',
      async (base) => {
        const r = await prompt({ CYNODE_PROMPT: "x", OLLAMA_BASE_URL: base });
        expect(r).toMatchObject({ code: 0, stdout: '<ok> 😀 é/\b\f"x"\n' });
      },
    );
  });

  it("ends a string at a quote after an even run of backslashes", async () => {
    await withReply('{"response":"ends in a backslash \\\\","other":"\\\\\\"still\\"","done":true}', async (base) => {
      expect(await prompt({ CYNODE_PROMPT: "x", OLLAMA_BASE_URL: base })).toMatchObject({
        code: 0,
        stdout: "ends in a backslash \\\n",
      });
    });
  });

  it("joins the response of every NDJSON line when the reply is streamed", async () => {
    const lines = [
      '{"response":"a, ","done":false}',
      '{"response":"b","nested":{"response":"no"},"done":false}',
      '{"response":"","done":true}',
    ];
    await withReply(lines.join("\n") + "\n", async (base) => {
      expect(await prompt({ CYNODE_PROMPT: "x", OLLAMA_BASE_URL: base })).toMatchObject({ code: 0, stdout: "a, b\n" });
    });
  });

  it("reports an error member or an unreadable reply as an Ollama error", async () => {
    await withReply('{"error":"model ran out of memory"}', async (base) => {
      expect(await prompt({ CYNODE_PROMPT: "x", OLLAMA_BASE_URL: base })).toMatchObject({
        code: 1,
        stdout: "[Ollama error] model ran out of memory\n",
      });
    });
    await withReply("<html>not json</html>", async (base) => {
      expect(await prompt({ CYNODE_PROMPT: "x", OLLAMA_BASE_URL: base })).toMatchObject({
        code: 1,
        stdout: "[Ollama error] unexpected reply: <html>not json</html>\n",
      });
    });
    await withReply('{"response":"unterminated', async (base) => {
      // What was decoded is already out; the error line follows it.
      expect(await prompt({ CYNODE_PROMPT: "x", OLLAMA_BASE_URL: base })).toMatchObject({
        code: 1,
        stdout: 'unterminated\n[Ollama error] unexpected reply: {"response":"unterminated\n',
      });
    });
  });
});
