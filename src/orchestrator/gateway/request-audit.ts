/** Auth audit rows written for a request: its client address and user agent come from the request itself. */
import type { Context } from "hono";
import { clientAddress } from "../../lib/client-address";
import type { Db } from "../db/connect";
import { recordAuthEvent, type AuthEvent } from "../db/audit";

export const auditRequest = (db: Db, c: Context, event: Omit<AuthEvent, "ip" | "userAgent">) =>
  recordAuthEvent(db, { ...event, ip: clientAddress(c), userAgent: c.req.header("user-agent") ?? null });
