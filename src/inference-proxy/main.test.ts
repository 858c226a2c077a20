import { afterEach, describe, expect, it } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VERSION } from "../lib/version";
import { startOllamaTestServer } from "../testing/ollama-test-server";

const MAIN = join(import.meta.dir, "main.ts");
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function run(...args: string[]) {
  const proc = Bun.spawn(["bun", MAIN, ...args], { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH! } });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}

/** Reads JSON log lines from the process' stderr until one has the wanted message. */
async function waitForLog(stream: ReadableStream<Uint8Array>, msg: string): Promise<Record<string, string>> {
  const reader = stream.getReader();
  let buffered = "";
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) throw new Error(`process ended before logging ${msg}: ${buffered}`);
    buffered += new TextDecoder().decode(chunk.value);
    for (const line of buffered.split("\n").slice(0, -1)) {
      const record = JSON.parse(line);
      if (record.msg === msg) {
        reader.releaseLock();
        return record;
      }
    }
  }
}

describe("inference-proxy executable", () => {
  it("prints its version and help", async () => {
    expect((await run("--version")).stdout.trim()).toBe(VERSION);
    const help = await run("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--healthcheck-url");
    expect(help.stdout).toContain("OLLAMA_UPSTREAM_URL");
  });

  it("exits 2 with every configuration problem listed", async () => {
    const r = await run("--listen", "none", "--upstream", "ftp://x");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("OLLAMA_UPSTREAM_URL");
    expect(r.stderr).toContain("listen on TCP, a Unix socket, or both");
  });

  it("proxies to its upstream, passes its own healthcheck and stops cleanly on SIGTERM", async () => {
    const upstream = await startOllamaTestServer({ port: 0 });
    cleanup.push(() => upstream.stop());
    const proc = Bun.spawn(["bun", MAIN, "--listen", "127.0.0.1:0", "--upstream", upstream.url!], {
      stderr: "pipe",
      env: { PATH: process.env.PATH!, INFERENCE_ALLOWED_MODELS: "qwen3.5:0.8b" },
    });
    cleanup.push(async () => proc.kill());
    const listening = await waitForLog(proc.stderr, "listening");
    expect(listening.allowed_models as unknown).toEqual(["qwen3.5:0.8b"]);
    expect(listening.upstream).toBe(upstream.url!);
    const res = await fetch(`${listening.tcp}/api/generate`, {
      method: "POST",
      body: JSON.stringify({ model: "qwen3.5:0.8b", prompt: "from main", stream: false }),
    });
    expect(((await res.json()) as { response: string }).response).toBe("echo: from main");
    expect((await run("--healthcheck-url", `${listening.tcp}/healthz`)).code).toBe(0);
    expect((await run("--healthcheck-url", `${listening.tcp}/missing-route-upstream-404`)).code).toBe(1);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  });

  it("also serves the egress listener when EGRESS_PROXY_LISTEN and EGRESS_UPSTREAM_SOCKET are set", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cynode-proxy-main-"));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const env = {
      PATH: process.env.PATH!,
      INFERENCE_PROXY_LISTEN: "none",
      INFERENCE_PROXY_SOCKET: join(dir, "proxy.sock"),
      EGRESS_PROXY_LISTEN: "127.0.0.1:0",
      EGRESS_UPSTREAM_SOCKET: join(dir, "broker.sock"),
    };
    const proc = Bun.spawn(["bun", MAIN], { stderr: "pipe", env });
    cleanup.push(async () => proc.kill());
    const listening = await waitForLog(proc.stderr, "listening");
    expect(listening.egress).toStartWith("http://127.0.0.1:");
    const res = await fetch(`${listening.egress}/`);
    expect(res.status).toBe(400);
  });
});
