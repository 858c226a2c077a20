/** POST /v1/auth/login|refresh|logout (contracts 1.3, decision 10). */
import { Hono, type Context } from "hono";
import { USER_API } from "../../contracts/routes";
import type { LoginRequest, LoginResponse } from "../../contracts/user-api";
import { clientAddress } from "../../lib/client-address";
import { ProblemError } from "../../lib/http-problem";
import { describeRoute } from "../../lib/openapi";
import { validated } from "../../lib/validate";
import type { LoginLimiter } from "../auth/login-limiter";
import { hashPassword, verifyPassword } from "../auth/passwords";
import { endSessions, familyOfToken, revokeFamily, rotateSession, startSession } from "../db/sessions";
import type { User } from "../db/schema";
import { findUserByHandle, passwordHashOf } from "../db/users";
import type { LoginMetrics } from "../metrics";
import { auditRequest } from "./request-audit";
import { requireUser, type AuthedUser, type GatewayEnv, type GatewayRouteDeps } from "./require-user";

export type AuthDeps = GatewayRouteDeps & { limiter: LoginLimiter; metrics?: LoginMetrics };
/** Verifying against a throwaway hash when the user is unknown keeps the answer time the same. */
type AuthContext = AuthDeps & { decoyHash: () => Promise<string> };

const BAD_BODY = "Invalid request body";
const tags = ["auth"];

/** A token pair for a session of `familyId`, and the session row that stores its refresh token. */
async function signPair(d: AuthDeps, user: { id: string; handle: string }, familyId: string) {
  const access = await d.tokens.issueAccess(user, familyId);
  const refresh = await d.tokens.issueRefresh(user, familyId);
  const body: LoginResponse = {
    access_token: access.token,
    refresh_token: refresh.token,
    token_type: "Bearer",
    expires_in: d.tokens.accessTtlSeconds,
  };
  return { result: body, successor: { userId: user.id, familyId, token: refresh.token, expiresAt: refresh.expiresAt } };
}

const accessMs = (d: AuthDeps) => d.tokens.accessTtlSeconds * 1000;
/** What a refused refresh tells the caller, beyond the default "Invalid refresh token". */
const REFUSAL_DETAIL: Record<string, string> = {
  "user not found": "User not found",
  "user inactive": "Account is disabled",
};

/** Why a login with these credentials fails, or undefined when it succeeds. */
function refusal(user: User | undefined, hash: string | undefined, valid: boolean): string | undefined {
  if (!user) return "user not found";
  if (!hash) return "no password credential";
  if (!valid) return "invalid password";
  return user.is_active ? undefined : "user inactive";
}

async function login(d: AuthContext, c: Context, creds: LoginRequest): Promise<LoginResponse> {
  const ip = clientAddress(c);
  const { handle } = creds;
  const verdict = d.limiter.attempt(ip, handle);
  if ("retryAfter" in verdict) {
    d.metrics?.loginFailed("rate limited");
    await auditRequest(d.db, c, { event: "login_failure", success: false, handle, reason: "rate limited" });
    throw new ProblemError(429, "Too many login attempts", { "retry-after": String(verdict.retryAfter) });
  }
  try {
    // A handle under attack from many addresses answers slowly rather than locking its owner out; the delay was
    // reserved in the handle's queue, so parallel guesses wait their turns too.
    if (verdict.delayMs) await Bun.sleep(verdict.delayMs);
    return await authenticate(d, c, ip, creds);
  } finally {
    d.limiter.settled(handle);
  }
}

async function authenticate(d: AuthContext, c: Context, ip: string, { handle, password }: LoginRequest) {
  if (!handle || !password) throw new ProblemError(400, "Handle and password are required");
  const user = await findUserByHandle(d.db, handle);
  const hash = user ? await passwordHashOf(d.db, user.id) : undefined;
  const reason = refusal(user, hash, await verifyPassword(password, hash ?? (await d.decoyHash())));
  const pair = user && !reason ? await signPair(d, user, crypto.randomUUID()) : undefined;
  // A user disabled since its row was read gets no session: refused exactly like bad credentials.
  if (reason || !user || !pair || !(await startSession(d.db, pair.successor))) {
    if (d.limiter.failed(ip, handle)) d.metrics?.handleLockedOut();
    // One reason for every refusal: the unauthenticated metrics never tell whether a handle exists.
    d.metrics?.loginFailed("invalid credentials");
    await auditRequest(d.db, c, {
      event: "login_failure",
      success: false,
      userId: user?.id,
      handle,
      reason: reason ?? "user inactive",
    });
    throw new ProblemError(401, "Invalid credentials");
  }
  d.limiter.succeeded(ip, handle);
  await auditRequest(d.db, c, { event: "login_success", success: true, userId: user.id, handle });
  return pair.result;
}

async function refresh(d: AuthDeps, c: Context, token: string): Promise<LoginResponse> {
  if (!token) throw new ProblemError(400, "Refresh token is required");
  const fail = async (reason: string, userId?: string, detail = "Invalid refresh token"): Promise<never> => {
    await auditRequest(d.db, c, { event: "refresh_failure", success: false, userId, reason });
    throw new ProblemError(401, detail);
  };
  if (!(await d.tokens.verify(token, "refresh"))) return fail("invalid token");
  const t = d.now();
  const { session, refused, result } = await rotateSession(d.db, token, t, async (s, user) => {
    if (!user) return "user not found";
    if (!user.is_active) return "user inactive";
    const pair = await signPair(d, user, s.family_id);
    return { successor: pair.successor, result: { body: pair.result, handle: user.handle } };
  });
  if (refused === "refresh token reuse" && session) {
    // A rotated token presented again means it leaked: end every session descended from the same login.
    d.tokens.revoked.add(await revokeFamily(d.db, session.family_id, t, accessMs(d)));
    d.log.warn("refresh token reuse detected; session revoked", {
      user_id: session.user_id,
      session: session.family_id,
    });
  }
  if (refused || !result) return fail(refused ?? "session not found", session?.user_id, REFUSAL_DETAIL[refused!]);
  await auditRequest(d.db, c, {
    event: "refresh_success",
    success: true,
    userId: session?.user_id,
    handle: result.handle,
  });
  return result.body;
}

/** The caller's own session always ends; a refresh token given names one more of theirs (reference behaviour). */
async function logout(d: AuthDeps, c: Context, user: AuthedUser, token: string | undefined): Promise<void> {
  const other = token ? await familyOfToken(d.db, user.id, token) : undefined;
  const ended = await endSessions(
    d.db,
    user.id,
    other ? [user.sessionId, other] : [user.sessionId],
    d.now(),
    accessMs(d),
  );
  d.tokens.revoked.add(ended);
  await auditRequest(d.db, c, {
    event: "logout",
    success: true,
    userId: user.id,
    handle: user.handle,
    reason: ended.length ? null : "no matching session",
  });
}

export function authRoutes(deps: AuthDeps) {
  let decoy: Promise<string> | undefined;
  const d: AuthContext = { ...deps, decoyHash: () => (decoy ??= hashPassword(crypto.randomUUID())) };
  const { login: LOGIN, refresh: REFRESH, logout: LOGOUT } = USER_API;
  return new Hono<GatewayEnv>()
    .post(
      LOGIN.pattern,
      describeRoute(LOGIN, { summary: "Log in", tags, problems: [400, 401, 429] }),
      validated("json", LOGIN.body, BAD_BODY),
      async (c) => c.json(await login(d, c, c.req.valid("json"))),
    )
    .post(
      REFRESH.pattern,
      describeRoute(REFRESH, { summary: "Rotate the refresh token", tags, problems: [400, 401] }),
      validated("json", REFRESH.body, BAD_BODY),
      async (c) => c.json(await refresh(d, c, c.req.valid("json").refresh_token)),
    )
    .post(
      LOGOUT.pattern,
      describeRoute(LOGOUT, { summary: "End a session", tags, problems: [400, 401] }),
      requireUser(deps.tokens),
      validated("json", LOGOUT.body, BAD_BODY),
      async (c) => {
        await logout(d, c, c.get("user"), c.req.valid("json").refresh_token);
        return c.body(null, 204);
      },
    );
}
