import { describe, expect, it } from "bun:test";
import { clientResponseHeaders, upstreamRequestHeaders } from "./http-forward-headers";

describe("upstreamRequestHeaders", () => {
  it("drops hop-by-hop headers, those named in Connection, Host and credentials", () => {
    const out = upstreamRequestHeaders(
      new Headers({
        connection: "keep-alive, x-per-hop",
        "x-per-hop": "1",
        "keep-alive": "timeout=5",
        te: "trailers",
        upgrade: "h2c",
        "proxy-authorization": "Basic abc",
        authorization: "Bearer sandbox-token",
        cookie: "session=1",
        host: "localhost:11434",
        "content-type": "application/json",
        "content-length": "12",
        "accept-encoding": "gzip",
      }),
    );
    expect(Object.fromEntries(out)).toEqual({
      "content-type": "application/json",
      "content-length": "12",
      "accept-encoding": "gzip",
    });
  });

  it("asks for identity encoding when the client named none", () => {
    expect(upstreamRequestHeaders(new Headers()).get("accept-encoding")).toBe("identity");
  });
});

describe("clientResponseHeaders", () => {
  it("drops hop-by-hop headers and any cookie or auth challenge", () => {
    const out = clientResponseHeaders(
      new Headers({
        "transfer-encoding": "chunked",
        connection: "close",
        "set-cookie": "a=b",
        "www-authenticate": "Basic",
        "content-type": "application/x-ndjson",
      }),
    );
    expect(Object.fromEntries(out)).toEqual({ "content-type": "application/x-ndjson" });
  });
});
