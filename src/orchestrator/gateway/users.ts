/** GET /v1/users/me and POST /v1/users/{id}/revoke_sessions (admin). */
import { Hono, type Context } from "hono";
import { USER_API, USER_API_SCOPES } from "../../contracts/routes";
import type { UserResponse } from "../../contracts/user-api";
import { ProblemError } from "../../lib/http-problem";
import { describeRoute } from "../../lib/openapi";
import { revokeUserSessions } from "../db/sessions";
import { isUuid } from "../db/tasks";
import { findUserById } from "../db/users";
import { auditRequest } from "./request-audit";
import { requireUser, type AuthedUser, type GatewayEnv, type GatewayRouteDeps } from "./require-user";

export const ADMIN_HANDLE = "admin";
const tags = ["users"];

async function me({ db }: GatewayRouteDeps, caller: AuthedUser): Promise<UserResponse> {
  const user = await findUserById(db, caller.id);
  if (!user) throw new ProblemError(404, "User not found");
  return { id: user.id, handle: user.handle, is_active: user.is_active, ...(user.email ? { email: user.email } : {}) };
}

async function revokeSessions({ db, tokens, now }: GatewayRouteDeps, c: Context, caller: AuthedUser, id: string) {
  if (caller.handle !== ADMIN_HANDLE) throw new ProblemError(403, "Admin required");
  if (!isUuid(id)) throw new ProblemError(400, "invalid user id");
  const target = await findUserById(db, id.toLowerCase());
  if (!target) throw new ProblemError(404, "User not found");
  const revoked = await revokeUserSessions(db, target.id, now());
  tokens.revoked.add(revoked);
  await auditRequest(db, c, {
    event: "session_revoked",
    success: true,
    userId: target.id,
    handle: target.handle,
    reason: `revoked ${revoked.length} session(s) by ${caller.handle}`,
  });
}

export function userRoutes(deps: GatewayRouteDeps) {
  const { me: ME, revokeSessions: REVOKE } = USER_API;
  return new Hono<GatewayEnv>()
    .use(USER_API_SCOPES.users, requireUser(deps.tokens))
    .get(ME.pattern, describeRoute(ME, { summary: "The caller", tags, problems: [401, 404] }), async (c) =>
      c.json(await me(deps, c.get("user"))),
    )
    .post(
      REVOKE.pattern,
      describeRoute(REVOKE, { summary: "End every session of a user (admin)", tags, problems: [400, 401, 403, 404] }),
      async (c) => {
        await revokeSessions(deps, c, c.get("user"), c.req.param("id"));
        return c.body(null, 204);
      },
    );
}
