/** POST /v1/auth/login|refresh|logout (contracts 1.3, decision 10). */
import { Hono, type Context } from "hono";
import type { Logger } from "../../lib/log";
import { ProblemError } from "../../lib/http-problem";
import { clientAddress } from "../../lib/client-address";
import { describeRoute } from "../../lib/openapi";
import { validated } from "../../lib/validate";
import { LoginRequest, LoginResponse, LogoutRequest, RefreshRequest } from "../../contracts/user-api";
import type { Db } from "../db/connect";
import { recordAuthEvent, type AuthEvent } from "../db/audit";
import {
  createSession,
  endSessions,
  familyOfToken,
  findSessionByToken,
  revokeFamily,
  rotateSession,
} from "../db/sessions";
import { findUserByHandle, findUserById, passwordHashOf } from "../db/users";
import type { LoginLimiter } from "../auth/login-limiter";
import type { LoginMetrics } from "../metrics";
import { hashPassword, verifyPassword } from "../auth/passwords";
import type { Tokens } from "../auth/tokens";
import { requireUser, type GatewayEnv } from "./require-user";

export type AuthDeps = {
  db: Db;
  tokens: Tokens;
  limiter: LoginLimiter;
  log: Logger;
  now: () => Date;
  metrics?: LoginMetrics;
};

const BAD_BODY = "Invalid request body";
const tags = ["auth"];

export function authRoutes({ db, tokens, limiter, log, now, metrics }: AuthDeps) {
  // Verifying against a throwaway hash when the user is unknown keeps the answer time the same.
  let decoyHash: Promise<string> | undefined;
  const decoy = () => (decoyHash ??= hashPassword(crypto.randomUUID()));

  const audit = (c: Context, e: Omit<AuthEvent, "ip" | "userAgent">) =>
    recordAuthEvent(db, { ...e, ip: clientAddress(c), userAgent: c.req.header("user-agent") ?? null });

  async function issuePair(user: { id: string; handle: string }, familyId: string): Promise<LoginResponse> {
    const access = await tokens.issueAccess(user, familyId);
    const refresh = await tokens.issueRefresh(user, familyId);
    await createSession(db, { userId: user.id, familyId, token: refresh.token, expiresAt: refresh.expiresAt });
    return {
      access_token: access.token,
      refresh_token: refresh.token,
      token_type: "Bearer",
      expires_in: tokens.accessTtlSeconds,
    };
  }

  return new Hono<GatewayEnv>()
    .post(
      "/login",
      describeRoute({ summary: "Log in", tags, responses: { 200: LoginResponse }, problems: [400, 401, 429] }),
      validated("json", LoginRequest, BAD_BODY),
      async (c) => {
        const { handle, password } = c.req.valid("json");
        const ip = clientAddress(c);
        const verdict = limiter.attempt(ip, handle);
        if ("retryAfter" in verdict) {
          metrics?.loginFailed("rate limited");
          await audit(c, { event: "login_failure", success: false, handle, reason: "rate limited" });
          throw new ProblemError(429, "Too many login attempts", { "retry-after": String(verdict.retryAfter) });
        }
        // A handle under attack from many addresses answers slowly rather than locking its owner out.
        if (verdict.delayMs) await Bun.sleep(verdict.delayMs);
        if (!handle || !password) throw new ProblemError(400, "Handle and password are required");
        const user = await findUserByHandle(db, handle);
        const hash = user ? await passwordHashOf(db, user.id) : undefined;
        const valid = await verifyPassword(password, hash ?? (await decoy()));
        const reason = !user
          ? "user not found"
          : !hash
            ? "no password credential"
            : !valid
              ? "invalid password"
              : !user.is_active
                ? "user inactive"
                : undefined;
        if (reason || !user) {
          if (limiter.failed(ip, handle)) metrics?.handleLockedOut();
          metrics?.loginFailed(reason ?? "unknown");
          await audit(c, { event: "login_failure", success: false, userId: user?.id, handle, reason });
          throw new ProblemError(401, "Invalid credentials");
        }
        limiter.succeeded(ip, handle);
        const body = await issuePair(user, crypto.randomUUID());
        await audit(c, { event: "login_success", success: true, userId: user.id, handle });
        return c.json(body);
      },
    )
    .post(
      "/refresh",
      describeRoute({
        summary: "Rotate the refresh token",
        tags,
        responses: { 200: LoginResponse },
        problems: [400, 401],
      }),
      validated("json", RefreshRequest, BAD_BODY),
      async (c) => {
        const { refresh_token: token } = c.req.valid("json");
        if (!token) throw new ProblemError(400, "Refresh token is required");
        const fail = async (reason: string, userId?: string, detail = "Invalid refresh token"): Promise<never> => {
          await audit(c, { event: "refresh_failure", success: false, userId, reason });
          throw new ProblemError(401, detail);
        };
        const claims = await tokens.verify(token, "refresh");
        if (!claims) return fail("invalid token");
        const session = await findSessionByToken(db, token);
        if (!session) return fail("session not found");
        const t = now();
        if (!session.is_active || !(await rotateSession(db, session.id, t))) {
          // A rotated token presented again means it leaked: end every session descended from the same login.
          if (session.rotated_at || session.is_active) {
            const revoked = await revokeFamily(db, session.family_id, t);
            tokens.revoked.add(revoked);
            log.warn("refresh token reuse detected; session revoked", {
              user_id: session.user_id,
              session: session.family_id,
            });
            return fail("refresh token reuse", session.user_id);
          }
          return fail("session not active", session.user_id);
        }
        if (session.expires_at <= t) return fail("session expired", session.user_id);
        const user = await findUserById(db, session.user_id);
        if (!user) return fail("user not found", session.user_id, "User not found");
        if (!user.is_active) return fail("user inactive", user.id, "Account is disabled");
        const body = await issuePair(user, session.family_id);
        await audit(c, { event: "refresh_success", success: true, userId: user.id, handle: user.handle });
        return c.json(body);
      },
    )
    .post(
      "/logout",
      describeRoute({ summary: "End a session", tags, auth: true, responses: { 204: null }, problems: [400, 401] }),
      requireUser(tokens),
      validated("json", LogoutRequest, BAD_BODY),
      async (c) => {
        const user = c.get("user");
        const { refresh_token: token } = c.req.valid("json");
        // The caller's own session always ends; a refresh token given names one more of theirs (reference behaviour).
        const other = token ? await familyOfToken(db, user.id, token) : undefined;
        const ended = await endSessions(db, user.id, other ? [user.sessionId, other] : [user.sessionId], now());
        tokens.revoked.add(ended);
        await audit(c, {
          event: "logout",
          success: true,
          userId: user.id,
          handle: user.handle,
          reason: ended.length ? null : "no matching session",
        });
        return c.body(null, 204);
      },
    );
}
