/** Middleware: a valid access token or a 401 problem; puts `{ id, handle }` in `c.var.user`. */
import { createMiddleware } from "hono/factory";
import type { PeerBindings } from "../../lib/client-address";
import { ProblemError } from "../../lib/http-problem";
import type { Logger } from "../../lib/log";
import { bearerToken, type Tokens } from "../auth/tokens";
import type { Db } from "../db/connect";

/** The caller; `sessionId` is the login family its token belongs to. */
export type AuthedUser = { id: string; handle: string; sessionId: string };
export type GatewayEnv = { Bindings: PeerBindings; Variables: { user: AuthedUser } };
/** What every route group of the gateway is built from. */
export type GatewayRouteDeps = { db: Db; tokens: Tokens; log: Logger; now: () => Date };

export function requireUser(tokens: Tokens) {
  return createMiddleware<GatewayEnv>(async (c, next) => {
    const token = bearerToken(c.req.header("authorization"));
    if (!token) throw new ProblemError(401, "Missing authorization header");
    const claims = await tokens.verify(token, "access");
    if (!claims?.user_id || !claims.handle || !claims.sid) throw new ProblemError(401, "Invalid or expired token");
    c.set("user", { id: claims.user_id, handle: claims.handle, sessionId: claims.sid });
    await next();
  });
}
