/**
 * The caller's address. Forwarding headers are client-controlled, so they count only when the server was started
 * behind a trusted proxy (`trustProxy`, TRUST_PROXY_HEADERS): then the hops are the X-Forwarded-For entries followed
 * by the socket peer, and the client is the right-most hop that is not one of the `trustedProxies`
 * (TRUSTED_PROXIES, loopback by default): whatever a client writes into the header stands left of the address its
 * proxy appends. Without X-Forwarded-For, a trusted peer's X-Real-IP counts. Else the socket peer.
 */
import type { Context } from "hono";
import { BlockList, isIP } from "node:net";

/** The proxies whose forwarding headers are believed. */
export type TrustedProxies = { has(address: string): boolean };
export type PeerBindings = { peer?: string; trustProxy?: boolean; trustedProxies?: TrustedProxies };

export const DEFAULT_TRUSTED_PROXIES = "127.0.0.0/8,::1";

/** `::ffff:a.b.c.d` (a v4 peer on a v6 socket) is the v4 address. */
function normalized(address: string): { address: string; family: "ipv4" | "ipv6" } | undefined {
  const a = address.trim().replace(/^\[(.*)\]$/, "$1");
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a)?.[1];
  if (v4 && isIP(v4) === 4) return { address: v4, family: "ipv4" };
  const kind = isIP(a);
  return kind ? { address: a, family: kind === 4 ? "ipv4" : "ipv6" } : undefined;
}

/** Parses a comma-separated list of addresses and CIDR ranges; throws naming the first bad entry. */
export function parseTrustedProxies(spec: string): TrustedProxies {
  const list = new BlockList();
  for (const entry of spec
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [ip = "", prefix, extra] = entry.split("/");
    const n = normalized(ip);
    const bits = prefix === undefined ? undefined : Number(prefix);
    const max = n?.family === "ipv4" ? 32 : 128;
    if (!n || extra !== undefined || (bits !== undefined && !(Number.isInteger(bits) && bits >= 0 && bits <= max)))
      throw new Error(`not an IP address or CIDR range: ${entry}`);
    if (bits === undefined) list.addAddress(n.address, n.family);
    else list.addSubnet(n.address, bits, n.family);
  }
  return {
    has(address) {
      const n = normalized(address);
      return !!n && list.check(n.address, n.family);
    },
  };
}

export function clientAddress(c: Context): string {
  const env = c.env as PeerBindings | undefined;
  const peer = env?.peer ?? "unknown";
  if (!env?.trustProxy) return peer;
  const trusted = env.trustedProxies ?? parseTrustedProxies(DEFAULT_TRUSTED_PROXIES);
  if (!trusted.has(peer)) return peer;
  const forwarded = (c.req.header("x-forwarded-for") ?? "")
    .split(",")
    .map((h) => h.trim())
    .filter(Boolean);
  if (!forwarded.length) return c.req.header("x-real-ip")?.trim() || peer;
  // Every hop trusted: the left-most is as far as the chain goes.
  return forwarded.findLast((hop) => !trusted.has(hop)) ?? forwarded[0]!;
}
