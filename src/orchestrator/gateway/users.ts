/**
 * GET /v1/users/me, and the admin's user management (reference-agents 5.1): create, list, disable, enable,
 * reset_password, revoke_sessions. Ending sessions reaches every orchestrator (revoked-session-listener.ts).
 */
import { Hono, type Context } from "hono";
import { USER_API, USER_API_SCOPES } from "../../contracts/routes";
import type { CreateUserRequest, UserResponse } from "../../contracts/user-api";
import { ProblemError } from "../../lib/http-problem";
import { describeRoute } from "../../lib/openapi";
import { validated } from "../../lib/validate";
import { hashPassword } from "../auth/passwords";
import type { AuthEvent } from "../db/audit";
import type { Db } from "../db/connect";
import type { User } from "../db/schema";
import { endSessionsIn, revokeUserSessions } from "../db/sessions";
import { isUuid } from "../db/tasks";
import {
  createUserWithPassword,
  findUserByHandle,
  findUserById,
  listUsers,
  setPasswordHash,
  setUserActive,
} from "../db/users";
import { auditRequest } from "./request-audit";
import { requireUser, type AuthedUser, type GatewayEnv, type GatewayRouteDeps } from "./require-user";

export const ADMIN_HANDLE = "admin";
const tags = ["users"];
const BAD_BODY = "Invalid request body";

const userView = (user: User): UserResponse => ({
  id: user.id,
  handle: user.handle,
  is_active: user.is_active,
  ...(user.email ? { email: user.email } : {}),
});

async function me({ db }: GatewayRouteDeps, caller: AuthedUser): Promise<UserResponse> {
  const user = await findUserById(db, caller.id);
  if (!user) throw new ProblemError(404, "User not found");
  return userView(user);
}

/** Admin-only routes answer everyone else 403. */
export function requireAdmin(caller: AuthedUser): void {
  if (caller.handle !== ADMIN_HANDLE) throw new ProblemError(403, "Admin required");
}

/** The target of an admin route: 403 for non-admins, 400 for a malformed id, 404 for an unknown one. */
async function targetUser(db: Db, caller: AuthedUser, id: string): Promise<User> {
  requireAdmin(caller);
  if (!isUuid(id)) throw new ProblemError(400, "invalid user id");
  const target = await findUserById(db, id.toLowerCase());
  if (!target) throw new ProblemError(404, "User not found");
  return target;
}

/** One audit row for an admin action on `target`. */
const audit = (db: Db, c: Context, event: AuthEvent["event"], target: User, reason: string) =>
  auditRequest(db, c, { event, success: true, userId: target.id, handle: target.handle, reason });

async function createUser(d: GatewayRouteDeps, c: Context, caller: AuthedUser, body: CreateUserRequest) {
  requireAdmin(caller);
  if (!body.handle.trim() || !body.password) throw new ProblemError(400, "Handle and password are required");
  if (await findUserByHandle(d.db, body.handle)) throw new ProblemError(409, "User already exists");
  const user = await createUserWithPassword(d.db, {
    handle: body.handle,
    email: body.email,
    passwordHash: await hashPassword(body.password),
  });
  await audit(d.db, c, "user_created", user, `by ${caller.handle}`);
  return userView(user);
}

/**
 * Ends every session of the target that may still hold a valid token, in `change`'s transaction (the user row is
 * changed first, so a login or refresh in flight either sees the change or has its session revoked here).
 */
async function endAllSessions(d: GatewayRouteDeps, userId: string, change: (tx: Db, now: Date) => Promise<unknown>) {
  const now = d.now();
  const revoked = await d.db.transaction().execute(async (tx) => {
    await change(tx, now);
    return endSessionsIn(tx, userId, now, d.tokens.accessTtlSeconds * 1000);
  });
  d.tokens.revoked.add(revoked);
  return revoked;
}

async function setActive(d: GatewayRouteDeps, c: Context, caller: AuthedUser, id: string, active: boolean) {
  const target = await targetUser(d.db, caller, id);
  if (active) {
    const user = (await setUserActive(d.db, target.id, true, d.now())) ?? target;
    await audit(d.db, c, "user_enabled", user, `by ${caller.handle}`);
    return userView(user);
  }
  let user = target;
  const revoked = await endAllSessions(d, target.id, async (tx, now) => {
    user = (await setUserActive(tx, target.id, false, now)) ?? target;
  });
  await audit(d.db, c, "user_disabled", user, `by ${caller.handle}; revoked ${revoked.length} session(s)`);
  return userView(user);
}

async function resetPassword(d: GatewayRouteDeps, c: Context, caller: AuthedUser, id: string, password: string) {
  const target = await targetUser(d.db, caller, id);
  if (!password) throw new ProblemError(400, "Password is required");
  const hash = await hashPassword(password);
  const revoked = await endAllSessions(d, target.id, (tx, now) => setPasswordHash(tx, target.id, hash, now));
  await audit(d.db, c, "password_reset", target, `by ${caller.handle}; revoked ${revoked.length} session(s)`);
}

async function revokeSessions(d: GatewayRouteDeps, c: Context, caller: AuthedUser, id: string) {
  const target = await targetUser(d.db, caller, id);
  const revoked = await revokeUserSessions(d.db, target.id, d.now(), d.tokens.accessTtlSeconds * 1000);
  d.tokens.revoked.add(revoked);
  await audit(d.db, c, "session_revoked", target, `revoked ${revoked.length} session(s) by ${caller.handle}`);
}

type Problems = NonNullable<Parameters<typeof describeRoute>[1]["problems"]>;
const ADMIN_PROBLEMS: Problems = [400, 401, 403, 404];

export function userRoutes(deps: GatewayRouteDeps) {
  const { me: ME, revokeSessions: REVOKE, createUser: CREATE, listUsers: LIST } = USER_API;
  const { disableUser: DISABLE, enableUser: ENABLE, resetPassword: RESET } = USER_API;
  const doc = (r: Parameters<typeof describeRoute>[0], summary: string, problems = ADMIN_PROBLEMS) =>
    describeRoute(r, { summary, tags, problems });
  return new Hono<GatewayEnv>()
    .use(USER_API.listUsers.pattern, requireUser(deps.tokens))
    .use(USER_API_SCOPES.users, requireUser(deps.tokens))
    .get(ME.pattern, doc(ME, "The caller", [401, 404]), async (c) => c.json(await me(deps, c.get("user"))))
    .get(LIST.pattern, doc(LIST, "Every user (admin)", [401, 403]), async (c) => {
      requireAdmin(c.get("user"));
      return c.json({ users: (await listUsers(deps.db)).map(userView) });
    })
    .post(
      CREATE.pattern,
      doc(CREATE, "Add a user (admin)", [400, 401, 403, 409]),
      validated("json", CREATE.body, BAD_BODY),
      async (c) => c.json(await createUser(deps, c, c.get("user"), c.req.valid("json")), 201),
    )
    .post(DISABLE.pattern, doc(DISABLE, "Disable a user and end its sessions (admin)"), async (c) =>
      c.json(await setActive(deps, c, c.get("user"), c.req.param("id"), false)),
    )
    .post(ENABLE.pattern, doc(ENABLE, "Enable a user again (admin)"), async (c) =>
      c.json(await setActive(deps, c, c.get("user"), c.req.param("id"), true)),
    )
    .post(
      RESET.pattern,
      doc(RESET, "Set a user's password and end its sessions (admin)"),
      validated("json", RESET.body, BAD_BODY),
      async (c) => {
        await resetPassword(deps, c, c.get("user"), c.req.param("id"), c.req.valid("json").password);
        return c.body(null, 204);
      },
    )
    .post(REVOKE.pattern, doc(REVOKE, "End every session of a user (admin)"), async (c) => {
      await revokeSessions(deps, c, c.get("user"), c.req.param("id"));
      return c.body(null, 204);
    });
}
