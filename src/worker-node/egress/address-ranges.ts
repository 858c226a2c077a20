/**
 * Which addresses are the public internet. Loopback, private, link-local, shared (CGNAT), documentation, benchmark,
 * multicast, reserved and unspecified ranges are not (IANA special-purpose registries); an IPv4-mapped or NAT64
 * IPv6 address is judged by the IPv4 address it carries. A restricted job reaches those only by naming them exactly.
 */
import { BlockList, isIP } from "node:net";

const NOT_PUBLIC_V4: [string, number][] = [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
];
const NOT_PUBLIC_V6: [string, number][] = [
  ["::", 128],
  ["::1", 128],
  ["100::", 64],
  ["2001::", 23],
  ["2001:db8::", 32],
  ["2002::", 16],
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
];

function notPublicList(): BlockList {
  const list = new BlockList();
  for (const [net, bits] of NOT_PUBLIC_V4) list.addSubnet(net, bits, "ipv4");
  for (const [net, bits] of NOT_PUBLIC_V6) list.addSubnet(net, bits, "ipv6");
  return list;
}
const NOT_PUBLIC = notPublicList();

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) address. */
function embeddedV4(address: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (!m) return undefined;
  if (m[1]) return m[1];
  const hi = Number.parseInt(m[2]!, 16);
  const lo = Number.parseInt(m[3]!, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join(".");
}

/** Whether `address` (an IP literal) is on the public internet; anything that is not an address is not. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 4) return !NOT_PUBLIC.check(address, "ipv4");
  const v4 = embeddedV4(address);
  return v4 ? isPublicAddress(v4) : !NOT_PUBLIC.check(address, "ipv6");
}
