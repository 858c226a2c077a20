/** The caller's address: first X-Forwarded-For entry, else X-Real-IP, else the socket peer. */
import type { Context } from "hono";

export type PeerEnv = { Bindings: { peer?: string } };

export function clientAddress(c: Context): string {
  const forwarded = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
  if (forwarded) return forwarded;
  const real = c.req.header("x-real-ip")?.trim();
  if (real) return real;
  return (c.env as { peer?: string } | undefined)?.peer ?? "unknown";
}
