import { describe, expect, it } from "bun:test";
import { Hono } from "hono";
import { clientAddress, parseTrustedProxies, type PeerBindings } from "./client-address";

const app = new Hono<{ Bindings: PeerBindings }>().get("/", (c) => c.text(clientAddress(c)));
const addressOf = async (env: PeerBindings, headers: Record<string, string> = {}) =>
  (await app.request("/", { headers }, env)).text();
const behind = (peer: string, spec = "127.0.0.0/8,::1,10.0.0.0/8"): PeerBindings => ({
  peer,
  trustProxy: true,
  trustedProxies: parseTrustedProxies(spec),
});

describe("clientAddress", () => {
  it("takes the right-most X-Forwarded-For address that is not a trusted proxy", async () => {
    // The client wrote "6.6.6.6" itself; its proxy appended the address it saw, then a second trusted proxy.
    const xff = { "x-forwarded-for": "6.6.6.6, 203.0.113.7, 10.0.0.2" };
    expect(await addressOf(behind("127.0.0.1"), xff)).toBe("203.0.113.7");
    expect(await addressOf(behind("::ffff:127.0.0.1"), xff)).toBe("203.0.113.7");
    expect(await addressOf(behind("127.0.0.1"), { "x-forwarded-for": "10.0.0.9,10.0.0.8" })).toBe("10.0.0.9");
  });

  it("believes no header from a peer that is not a trusted proxy, nor when proxy headers are off", async () => {
    const xff = { "x-forwarded-for": "203.0.113.7", "x-real-ip": "203.0.113.8" };
    expect(await addressOf(behind("198.51.100.1"), xff)).toBe("198.51.100.1");
    expect(await addressOf({ peer: "127.0.0.1" }, xff)).toBe("127.0.0.1");
    expect(await addressOf({}, xff)).toBe("unknown");
  });

  it("uses X-Real-IP without X-Forwarded-For, and the loopback default list", async () => {
    expect(await addressOf(behind("::1"), { "x-real-ip": "203.0.113.8" })).toBe("203.0.113.8");
    expect(await addressOf({ peer: "127.0.0.1", trustProxy: true }, { "x-forwarded-for": "10.0.0.2" })).toBe(
      "10.0.0.2",
    );
    expect(await addressOf(behind("127.0.0.1"))).toBe("127.0.0.1");
  });

  it("parses addresses and CIDR ranges of both families, and refuses anything else", () => {
    const t = parseTrustedProxies(" 192.168.0.0/16, fd00::/8 ,::1,203.0.113.5");
    expect(["192.168.4.4", "fd12::1", "::1", "203.0.113.5", "[::1]"].map((a) => t.has(a))).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(["192.169.0.1", "fe80::1", "203.0.113.6", "garbage"].map((a) => t.has(a))).toEqual([
      false,
      false,
      false,
      false,
    ]);
    for (const bad of ["10.0.0.0/33", "nope", "10.0.0.1/8/1", "::1/129", "10.0.0.0/x"])
      expect(() => parseTrustedProxies(bad)).toThrow(`not an IP address or CIDR range: ${bad}`);
  });
});
