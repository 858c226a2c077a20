/** Steps for the inference-proxy executable, run against the Ollama-API-compatible TEST DOUBLE. */
import { Given, Then, When } from "@cucumber/cucumber";
import { expect } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startOllamaTestServer, testReply, type OllamaTestServer } from "../../src/testing/ollama-test-server";
import { command, startProcess, type ManagedProcess } from "../support/managed-process";
import type { CyWorld } from "../support/world";

const MODEL = "qwen3.5:0.8b";
type ProxyWorld = CyWorld & { upstream?: OllamaTestServer; proxy?: ManagedProcess; proxyUrl?: string; socket?: string };

Given("an Ollama-compatible test upstream", async function (this: ProxyWorld) {
  const upstream = await startOllamaTestServer({ port: 0, models: [MODEL] });
  this.scenario.add("ollama test upstream", upstream.stop);
  this.upstream = upstream;
});

async function startProxy(w: ProxyWorld, env: Record<string, string>): Promise<string> {
  const proxy = startProcess("inference-proxy", command("inference-proxy"), {
    env: { OLLAMA_UPSTREAM_URL: w.upstream!.url!, INFERENCE_ALLOWED_MODELS: MODEL, ...env },
  });
  w.scenario.add("inference-proxy", () => proxy.stop());
  w.proxy = proxy;
  return proxy.waitForLine(/"msg":"listening"/, 30_000);
}

Given("an inference proxy listening on TCP", async function (this: ProxyWorld) {
  const line = await startProxy(this, { INFERENCE_PROXY_LISTEN: "127.0.0.1:0" });
  this.proxyUrl = JSON.parse(line).tcp.replace(/\/$/, "");
});
Given("an inference proxy listening only on a Unix socket", async function (this: ProxyWorld) {
  const dir = await mkdtemp(join(tmpdir(), "cynode-bdd-proxy-"));
  this.scenario.add("socket dir", () => rm(dir, { recursive: true, force: true }));
  this.socket = join(dir, "inference-proxy.sock");
  await startProxy(this, { INFERENCE_PROXY_LISTEN: "none", INFERENCE_PROXY_SOCKET: this.socket });
});

async function proxyCall(w: ProxyWorld, method: string, path: string, body?: string) {
  const init = { method, body, headers: body ? { "content-type": "application/json" } : undefined };
  w.response = w.socket
    ? await fetch(`http://localhost${path}`, { ...init, unix: w.socket })
    : await fetch(w.proxyUrl + path, init);
  w.text = await w.response.text();
  try {
    w.json = JSON.parse(w.text);
  } catch {
    w.json = undefined;
  }
}
const generate = (prompt: string) => JSON.stringify({ model: MODEL, prompt, stream: false });

When("I ask the proxy to generate a reply to {string}", function (this: ProxyWorld, prompt: string) {
  return proxyCall(this, "POST", "/api/generate", generate(prompt));
});
When("I ask the proxy over its socket to generate a reply to {string}", function (this: ProxyWorld, prompt: string) {
  return proxyCall(this, "POST", "/api/generate", generate(prompt));
});
When("I send the proxy a generate request of {int} KiB", function (this: ProxyWorld, kib: number) {
  return proxyCall(this, "POST", "/api/generate", generate("x".repeat(kib * 1024)));
});
When("I check the proxy's health over its socket", function (this: ProxyWorld) {
  return proxyCall(this, "GET", "/healthz");
});
Then("the reply is the upstream's answer to {string}", function (this: ProxyWorld, prompt: string) {
  expect(this.json).toMatchObject({ model: MODEL, response: testReply(prompt), done: true });
});
Then("the upstream received no generate request", function (this: ProxyWorld) {
  expect(this.upstream!.requests.filter((r) => r.path === "/api/generate")).toEqual([]);
});
Then("the proxy opened no TCP listener", function (this: ProxyWorld) {
  const [listening] = this.proxy!.logLines("listening");
  expect(listening!.tcp).toBeUndefined();
  expect(listening!.socket).toBe(this.socket);
});
