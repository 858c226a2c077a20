/**
 * The caller's address. Forwarding headers are client-controlled, so they count only when the server was started
 * behind a trusted proxy (`trustProxy`): then the first X-Forwarded-For entry, else X-Real-IP; else the socket peer.
 */
import type { Context } from "hono";

export type PeerBindings = { peer?: string; trustProxy?: boolean };

export function clientAddress(c: Context): string {
  const env = c.env as PeerBindings | undefined;
  if (env?.trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
    if (forwarded) return forwarded;
    const real = c.req.header("x-real-ip")?.trim();
    if (real) return real;
  }
  return env?.peer ?? "unknown";
}
