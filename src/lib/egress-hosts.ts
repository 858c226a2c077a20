/**
 * Egress host entries (decision 28): `host`, `host:port`, `*.domain[:port]`, `*[:port]`, an IPv4 address or a
 * bracketed IPv6 address, each with an optional port. Without a port an entry allows 80 and 443. Wildcards match
 * DNS names only: an address is allowed only by an entry that names it. The orchestrator keeps a task's entries that
 * its policy covers; the node matches each connection against the job's entries.
 */
import { isIP } from "node:net";

export type HostEntry = { host: string; port?: number };

/** The ports an entry without one allows. */
export const DEFAULT_EGRESS_PORTS = [80, 443] as const;

const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const DNS_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
const ENTRY = /^(\*|\*\.[^:[\]]+|\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/;

/** A host as compared: lower case, no trailing dot, an IPv6 address without its brackets. */
export function normalizeHost(host: string): string {
  const h = host.trim().toLowerCase().replace(/\.$/, "");
  return h.startsWith("[") && h.endsWith("]") ? h.slice(1, -1) : h;
}

const isDnsName = (h: string) => h.length <= 253 && DNS_NAME.test(h) && isIP(h) === 0;

/** The entry `text` names, or undefined when it is none. */
export function parseHostEntry(text: string): HostEntry | undefined {
  const m = ENTRY.exec(text.trim().toLowerCase());
  if (!m) return undefined;
  const host = normalizeHost(m[1]!);
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  const bracketed = m[1]!.startsWith("[");
  const valid =
    host === "*" ||
    (host.startsWith("*.") && isDnsName(host.slice(2))) ||
    (bracketed ? isIP(host) === 6 : isIP(host) === 4 || isDnsName(host));
  return valid ? { host, ...(port !== undefined ? { port } : {}) } : undefined;
}

/** The entry as text again (`host[:port]`, IPv6 bracketed). */
export const formatHostEntry = (e: HostEntry): string =>
  `${isIP(e.host) === 6 ? `[${e.host}]` : e.host}${e.port !== undefined ? `:${e.port}` : ""}`;

const portAllowed = (entry: HostEntry, port: number) =>
  entry.port === undefined ? (DEFAULT_EGRESS_PORTS as readonly number[]).includes(port) : entry.port === port;

function hostMatches(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  if (isIP(host) !== 0) return false;
  return pattern === "*" || (pattern.startsWith("*.") && host.endsWith(pattern.slice(1)));
}

/** Whether the entry allows a connection to `host` (normalized) on `port`. */
export const entryAllows = (entry: HostEntry, host: string, port: number): boolean =>
  hostMatches(entry.host, host) && portAllowed(entry, port);

/** Whether every destination `inner` allows, `outer` allows too. */
export function entryCovers(outer: HostEntry, inner: HostEntry): boolean {
  if (!hostMatches(outer.host, inner.host)) return false;
  if (outer.port === undefined) return inner.port === undefined || portAllowed(outer, inner.port);
  return inner.port === outer.port;
}

/** Entries of a comma- or space-separated list (EGRESS_ALLOWED_HOSTS); the texts that are none are listed apart. */
export function parseHostList(text: string): { entries: HostEntry[]; invalid: string[] } {
  const items = text.split(/[\s,]+/).filter(Boolean);
  const entries = items.map(parseHostEntry);
  return {
    entries: entries.filter((e): e is HostEntry => e !== undefined),
    invalid: items.filter((_, i) => entries[i] === undefined),
  };
}
