/** GET /v1/users/me and POST /v1/users/{id}/revoke_sessions (admin). */
import { Hono } from "hono";
import { ProblemError } from "../../lib/http-problem";
import { clientAddress } from "../../lib/client-address";
import { describeRoute } from "../../lib/openapi";
import { UserResponse } from "../../contracts/user-api";
import type { Db } from "../db/connect";
import { recordAuthEvent } from "../db/audit";
import { revokeUserSessions } from "../db/sessions";
import { isUuid } from "../db/tasks";
import { findUserById } from "../db/users";
import type { Tokens } from "../auth/tokens";
import { requireUser, type GatewayEnv } from "./require-user";

export const ADMIN_HANDLE = "admin";
const tags = ["users"];

export function userRoutes({ db, tokens, now }: { db: Db; tokens: Tokens; now: () => Date }) {
  return new Hono<GatewayEnv>()
    .use(requireUser(tokens))
    .get(
      "/me",
      describeRoute({
        summary: "The caller",
        tags,
        auth: true,
        responses: { 200: UserResponse },
        problems: [401, 404],
      }),
      async (c) => {
        const user = await findUserById(db, c.get("user").id);
        if (!user) throw new ProblemError(404, "User not found");
        const body: UserResponse = {
          id: user.id,
          handle: user.handle,
          is_active: user.is_active,
          ...(user.email ? { email: user.email } : {}),
        };
        return c.json(body);
      },
    )
    .post(
      "/:id/revoke_sessions",
      describeRoute({
        summary: "End every session of a user (admin)",
        tags,
        auth: true,
        responses: { 204: null },
        problems: [400, 401, 403, 404],
      }),
      async (c) => {
        const caller = c.get("user");
        if (caller.handle !== ADMIN_HANDLE) throw new ProblemError(403, "Admin required");
        const id = c.req.param("id");
        if (!isUuid(id)) throw new ProblemError(400, "invalid user id");
        const target = await findUserById(db, id.toLowerCase());
        if (!target) throw new ProblemError(404, "User not found");
        const revoked = await revokeUserSessions(db, target.id, now());
        tokens.revoked.add(revoked);
        await recordAuthEvent(db, {
          event: "session_revoked",
          success: true,
          userId: target.id,
          handle: target.handle,
          ip: clientAddress(c),
          userAgent: c.req.header("user-agent") ?? null,
          reason: `revoked ${revoked.length} session(s) by ${caller.handle}`,
        });
        return c.body(null, 204);
      },
    );
}
