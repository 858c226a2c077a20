import { describe, expect, it } from "bun:test";
import { loadConfig } from "./config";

describe("loadConfig", () => {
  it("defaults to TCP 127.0.0.1:11434, the reference upstream, 120 s and 10 MiB", () => {
    expect(loadConfig({})).toEqual({
      INFERENCE_PROXY_LISTEN: { hostname: "127.0.0.1", port: 11434 },
      INFERENCE_PROXY_SOCKET: undefined,
      OLLAMA_UPSTREAM_URL: { origin: "http://host.containers.internal:11434", basePath: "" },
      INFERENCE_PROXY_TIMEOUT: 120_000,
      INFERENCE_PROXY_MAX_BODY_BYTES: 10 * 1024 * 1024,
      INFERENCE_PROXY_MAX_CONNECTIONS: 16,
      INFERENCE_ALLOWED_MODELS: [],
      INFERENCE_MAX_TOKENS: 4096,
      INFERENCE_MAX_CONTEXT: 8192,
      INFERENCE_MAX_KEEP_ALIVE: "5m",
      LOG_LEVEL: "info",
    });
  });

  it("reads the environment, treating empty values as unset", () => {
    const c = loadConfig({
      INFERENCE_PROXY_SOCKET: "/run/cynode/inference-proxy.sock",
      OLLAMA_UPSTREAM_URL: "unix:/run/relay/ollama.sock",
      INFERENCE_PROXY_TIMEOUT: "2s",
      INFERENCE_PROXY_MAX_BODY_BYTES: "1000",
      LOG_LEVEL: "debug",
    });
    expect(c.INFERENCE_PROXY_LISTEN).toEqual({ hostname: "127.0.0.1", port: 11434 });
    expect(c.INFERENCE_PROXY_SOCKET).toBe("/run/cynode/inference-proxy.sock");
    expect(c.OLLAMA_UPSTREAM_URL.unix).toBe("/run/relay/ollama.sock");
    expect(c.INFERENCE_PROXY_TIMEOUT).toBe(2000);
    expect(c.INFERENCE_PROXY_MAX_BODY_BYTES).toBe(1000);
    expect(loadConfig({ OLLAMA_UPSTREAM_URL: "", INFERENCE_PROXY_SOCKET: "" }).INFERENCE_PROXY_SOCKET).toBeUndefined();
  });

  it("lets flags win over the environment, and `none` turn TCP off", () => {
    const c = loadConfig(
      { INFERENCE_PROXY_LISTEN: "0.0.0.0:1", OLLAMA_UPSTREAM_URL: "http://a:1", INFERENCE_PROXY_TIMEOUT: "5s" },
      { listen: "none", socket: "/tmp/p.sock", upstream: "http://b:2", timeout: "1m" },
    );
    expect(c.INFERENCE_PROXY_LISTEN).toBeUndefined();
    expect(c.INFERENCE_PROXY_SOCKET).toBe("/tmp/p.sock");
    expect(c.OLLAMA_UPSTREAM_URL.origin).toBe("http://b:2");
    expect(c.INFERENCE_PROXY_TIMEOUT).toBe(60_000);
  });

  it("reads the allowed models, the option limits and the connection cap", () => {
    const c = loadConfig({
      INFERENCE_ALLOWED_MODELS: " qwen3.5:0.8b, llama3 ,,",
      INFERENCE_MAX_TOKENS: "100",
      INFERENCE_MAX_CONTEXT: "2048",
      INFERENCE_MAX_KEEP_ALIVE: "30s",
      INFERENCE_PROXY_MAX_CONNECTIONS: "4",
    });
    expect(c.INFERENCE_ALLOWED_MODELS).toEqual(["qwen3.5:0.8b", "llama3"]);
    expect([c.INFERENCE_MAX_TOKENS, c.INFERENCE_MAX_CONTEXT, c.INFERENCE_MAX_KEEP_ALIVE]).toEqual([100, 2048, "30s"]);
    expect(c.INFERENCE_PROXY_MAX_CONNECTIONS).toBe(4);
  });

  it("refuses a body limit past 10 MiB, a bad keep-alive and a model list with spaces", () => {
    const attempt = () =>
      loadConfig({
        INFERENCE_PROXY_MAX_BODY_BYTES: String(10 * 1024 * 1024 + 1),
        INFERENCE_MAX_KEEP_ALIVE: "forever",
        INFERENCE_ALLOWED_MODELS: "a b",
      });
    expect(attempt).toThrow(
      /INFERENCE_PROXY_MAX_BODY_BYTES[\s\S]*INFERENCE_ALLOWED_MODELS[\s\S]*INFERENCE_MAX_KEEP_ALIVE/,
    );
  });

  it("lists every problem at once", () => {
    const attempt = () =>
      loadConfig({
        INFERENCE_PROXY_LISTEN: "nope",
        OLLAMA_UPSTREAM_URL: "ftp://x",
        INFERENCE_PROXY_TIMEOUT: "soon",
        INFERENCE_PROXY_SOCKET: "rel.sock",
      });
    expect(attempt).toThrow(
      /INFERENCE_PROXY_LISTEN: must be \[host\]:port or none[\s\S]*INFERENCE_PROXY_SOCKET[\s\S]*OLLAMA_UPSTREAM_URL[\s\S]*INFERENCE_PROXY_TIMEOUT/,
    );
  });

  it("refuses to listen nowhere", () => {
    expect(() => loadConfig({ INFERENCE_PROXY_LISTEN: "none" })).toThrow("listen on TCP, a Unix socket, or both");
  });
});
