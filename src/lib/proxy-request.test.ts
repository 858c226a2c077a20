import { describe, expect, it } from "bun:test";
import { connect, createServer, type Socket } from "node:net";
import { proxyTarget, readRequestHead } from "./proxy-request";

describe("proxyTarget", () => {
  it("reads CONNECT authorities and absolute http URLs", () => {
    expect(proxyTarget("CONNECT Example.com:443 HTTP/1.1")).toEqual({
      kind: "connect",
      host: "example.com",
      port: 443,
    });
    expect(proxyTarget("CONNECT [::1]:8443 HTTP/1.1")).toEqual({ kind: "connect", host: "::1", port: 8443 });
    expect(proxyTarget("GET http://a.test/p?q=1 HTTP/1.1")).toEqual({
      kind: "http",
      host: "a.test",
      port: 80,
      method: "GET",
      path: "/p?q=1",
    });
    expect(proxyTarget("POST http://127.0.0.2:81/ HTTP/1.0")).toMatchObject({ host: "127.0.0.2", port: 81 });
  });

  it("refuses origin form, other schemes, credentials, patterns and malformed lines", () => {
    const bad = [
      "GET / HTTP/1.1",
      "GET https://a.test/ HTTP/1.1",
      "GET http://u:p@a.test/ HTTP/1.1",
      "GET http://[zz]/ HTTP/1.1",
      "CONNECT a.test HTTP/1.1",
      "CONNECT a.test:0 HTTP/1.1",
      "CONNECT *.a.test:443 HTTP/1.1",
      "CONNECT a.test:443 HTTP/2",
      "get http://a.test/ HTTP/1.1",
      "GET http://a.test/ HTTP/1.1 x",
    ];
    for (const line of bad) expect(proxyTarget(line)).toBeUndefined();
  });
});

async function headFrom(send: (s: Socket) => void, timeoutMs?: number) {
  const got = Promise.withResolvers<Socket>();
  const server = createServer((s) => got.resolve(s)).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const client = connect((server.address() as { port: number }).port, "127.0.0.1");
  send(client);
  const socket = await got.promise;
  try {
    return await readRequestHead(socket, timeoutMs);
  } finally {
    client.destroy();
    server.close();
  }
}

describe("readRequestHead", () => {
  it("reads a head sent in pieces and keeps what follows it", async () => {
    const r = await headFrom((c) => {
      c.write("CONNECT a.test:443 HTTP/1.1\r\n");
      c.write("Host: a\r\n\r\nearly bytes");
    });
    expect(r.head).toBe("CONNECT a.test:443 HTTP/1.1\r\nHost: a");
    expect(String(r.rest)).toBe("early bytes");
  });

  it("refuses a head too large, too slow, or cut short", async () => {
    await expect(
      headFrom((c) => c.write(`GET http://a/ HTTP/1.1\r\nX: ${"x".repeat(20_000)}\r\n\r\n`)),
    ).rejects.toThrow("request head too large");
    await expect(headFrom((c) => c.write("GET http://a/ HTTP/1.1\r\n"), 50)).rejects.toThrow("request head too slow");
    await expect(headFrom((c) => c.end("GET http://a/"))).rejects.toThrow("closed before its request head ended");
  });
});
