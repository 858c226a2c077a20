/**
 * The first request on a forward-proxy connection (decision 28): its head read off a socket, and where it asks to
 * go: `CONNECT host:port` (a tunnel) or an absolute-form `http://` URL (one plain request). The sandbox's sidecar
 * checks the form, the node decides on the destination; both read the head here.
 */
import type { Socket } from "node:net";
import { isIP } from "node:net";
import { normalizeHost, parseHostEntry } from "./egress-hosts";

export const MAX_PROXY_HEAD_BYTES = 16 * 1024;
/** A request head not complete this long after the connection opened is refused. */
export const PROXY_HEAD_TIMEOUT_MS = 10_000;
const HEAD_END = "\r\n\r\n";

export type RequestHead = { head: string; rest: Buffer };

/** Reads up to the end of the request head; the socket is paused after it, holding what came next in `rest`. */
export function readRequestHead(socket: Socket, timeoutMs = PROXY_HEAD_TIMEOUT_MS): Promise<RequestHead> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const done = (err?: Error, head?: RequestHead) => {
      clearTimeout(timer);
      socket.off("data", onData).off("end", onEnd).off("error", done);
      socket.pause();
      if (head) resolve(head);
      else reject(err);
    };
    const onEnd = () => done(new Error("the connection closed before its request head ended"));
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf(HEAD_END);
      if (end >= 0 && end + HEAD_END.length <= MAX_PROXY_HEAD_BYTES)
        return done(undefined, {
          head: buffered.subarray(0, end).toString("latin1"),
          rest: buffered.subarray(end + HEAD_END.length),
        });
      if (buffered.length > MAX_PROXY_HEAD_BYTES) done(new Error("request head too large"));
    };
    const timer = setTimeout(() => done(new Error("request head too slow")), timeoutMs);
    socket.on("data", onData).on("end", onEnd).on("error", done);
  });
}

export type ProxyTarget =
  | { kind: "connect"; host: string; port: number }
  | { kind: "http"; host: string; port: number; method: string; path: string };

/** `host` is a concrete destination: a DNS name or an IP address, no pattern. */
const isDestination = (host: string) =>
  !host.includes("*") && parseHostEntry(isIP(host) === 6 ? `[${host}]` : host) !== undefined;

function authority(text: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65535) return undefined;
  const host = normalizeHost(m[1]!);
  return isDestination(host) ? { host, port } : undefined;
}

function absoluteHttp(method: string, target: string): ProxyTarget | undefined {
  if (!/^http:\/\//i.test(target)) return undefined;
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return undefined;
  }
  const host = normalizeHost(url.hostname);
  if (url.username || url.password || !isDestination(host)) return undefined;
  return { kind: "http", host, port: url.port ? Number(url.port) : 80, method, path: url.pathname + url.search };
}

/** Where the request line asks to go, or undefined when it is no forward-proxy request. */
export function proxyTarget(startLine: string): ProxyTarget | undefined {
  const [method = "", target = "", version = "", ...extra] = startLine.split(" ");
  if (extra.length || !/^HTTP\/1\.[01]$/.test(version) || !/^[A-Z]+$/.test(method)) return undefined;
  if (method !== "CONNECT") return absoluteHttp(method, target);
  const dest = authority(target);
  return dest && { kind: "connect", ...dest };
}
