/** Starts a hono app on Bun.serve, passing the socket peer address (and whether a proxy is trusted) in `c.env`. */
import type { Hono } from "hono";
import { DEFAULT_TRUSTED_PROXIES, parseTrustedProxies, type TrustedProxies } from "./client-address";

export type ListenAddress = { hostname: string; port: number };

/** Parses `:12080`, `0.0.0.0:12080`, `[::1]:12080` or `12080`. */
export function parseListenAddress(addr: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:]*))?:?(\d+)$/.exec(addr.trim());
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid listen address: ${addr}`);
  return { hostname: m[1] ?? (m[2] || "0.0.0.0"), port };
}

export type Served = {
  url: URL;
  port: number;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs` (default 5 s), then closes the rest. */
  stop(graceMs?: number): Promise<void>;
};

/** Bun's cap on request bodies: high enough that no app-level limit is ever pre-empted by it. */
export const MAX_SAFE_BODY = 2 ** 40;

export type ServeOptions = {
  idleTimeout?: number;
  maxRequestBodySize?: number;
  /** Behind a reverse proxy: believe X-Forwarded-For / X-Real-IP for the client address (see client-address.ts). */
  trustProxyHeaders?: boolean;
  /** PEM certificate (chain) and key: the listener speaks HTTPS only. */
  tls?: TlsFiles;
  /** The proxies whose headers count (default loopback). */
  trustedProxies?: TrustedProxies;
};

export type TlsFiles = { cert: string; key: string };

export function serveApp(app: Hono<any>, addr: ListenAddress, opts: ServeOptions = {}): Served {
  const trustedProxies = opts.trustedProxies ?? parseTrustedProxies(DEFAULT_TRUSTED_PROXIES);
  const server = Bun.serve({
    hostname: addr.hostname,
    port: addr.port,
    idleTimeout: opts.idleTimeout ?? 120,
    // Bodies are limited by each app's own middleware (declared length first, then counted while streaming), so
    // the answer is its problem+json; Bun's own cap, far above, would answer with a bare 413.
    maxRequestBodySize: opts.maxRequestBodySize ?? MAX_SAFE_BODY,
    ...(opts.tls ? { tls: { cert: opts.tls.cert, key: opts.tls.key } } : {}),
    fetch: (req, srv) =>
      app.fetch(req, {
        peer: srv.requestIP(req)?.address,
        trustProxy: opts.trustProxyHeaders ?? false,
        trustedProxies,
      }),
  });
  return {
    url: server.url,
    port: server.port!,
    async stop(graceMs = 5000) {
      let timer: Timer | undefined;
      const forced = new Promise<void>((resolve) => (timer = setTimeout(() => resolve(server.stop(true)), graceMs)));
      await Promise.race([server.stop(false), forced]);
      clearTimeout(timer);
      await server.stop(true);
    },
  };
}
