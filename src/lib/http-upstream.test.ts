import { describe, expect, it } from "bun:test";
import { parseUpstream, upstreamTarget } from "./http-upstream";

describe("parseUpstream", () => {
  it("accepts http URLs and keeps a path prefix without its trailing slash", () => {
    expect(parseUpstream("http://127.0.0.1:11434")).toEqual({ origin: "http://127.0.0.1:11434", basePath: "" });
    expect(parseUpstream(" https://ollama.internal/base/ ")).toEqual({
      origin: "https://ollama.internal",
      basePath: "/base",
    });
  });

  it("turns unix:/path into HTTP over that socket addressed as localhost", () => {
    const up = parseUpstream("unix:/run/cynode/ollama.sock");
    expect(up).toEqual({ origin: "http://localhost", basePath: "", unix: "/run/cynode/ollama.sock" });
    expect(upstreamTarget(up, "/api/tags?x=1")).toEqual({
      url: "http://localhost/api/tags?x=1",
      unix: "/run/cynode/ollama.sock",
    });
  });

  it("rejects relative sockets, other schemes, credentials and garbage", () => {
    expect(() => parseUpstream("unix:run/x.sock")).toThrow("must be absolute");
    expect(() => parseUpstream("ftp://host")).toThrow("only http, https and unix");
    expect(() => parseUpstream("http://user:pw@host:1")).toThrow("credentials");
    expect(() => parseUpstream("not a url")).toThrow("expected http://host:port");
  });

  it("joins a prefix and the request path", () => {
    expect(upstreamTarget(parseUpstream("http://h:1/p"), "/api/generate")).toEqual({
      url: "http://h:1/p/api/generate",
      unix: undefined,
    });
  });
});
