/**
 * HS256 JWTs (jose) for users (access, refresh) and nodes, with the reference's claims (reference-contracts 5, 2.2);
 * HS256 only. Access tokens die with their session: the revoked sessions are kept in memory here.
 */
import { SignJWT, jwtVerify } from "jose";
import type { Revocation } from "../db/revoked-sessions";

export type TokenType = "access" | "refresh" | "node";

export type TokenClaims = {
  sub: string;
  jti: string;
  token_type: TokenType;
  exp: number;
  user_id?: string;
  handle?: string;
  /** The session (login family) a user token belongs to; it dies with it. */
  sid?: string;
  node_id?: string;
  node_slug?: string;
  /** Thumbprint of the key the node was bound to when the token was issued. */
  node_key?: string;
};

export type TokenTtls = { accessMs: number; refreshMs: number; nodeMs: number };

export type Tokens = ReturnType<typeof createTokens>;

export function createTokens(opts: {
  secret: string;
  ttl: TokenTtls;
  now?: () => Date;
  /** Ended sessions, whose user tokens are refused; a fresh set when not shared. */
  revoked?: RevokedSessions;
}) {
  const key = new TextEncoder().encode(opts.secret);
  const now = opts.now ?? (() => new Date());
  const revoked = opts.revoked ?? createRevokedSessions(now);
  const ttlOf: Record<TokenType, number> = {
    access: opts.ttl.accessMs,
    refresh: opts.ttl.refreshMs,
    node: opts.ttl.nodeMs,
  };

  async function issue(type: TokenType, sub: string, extra: Record<string, string>) {
    const iat = Math.floor(now().getTime() / 1000);
    const exp = iat + Math.floor(ttlOf[type] / 1000);
    const token = await new SignJWT({ ...extra, token_type: type })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer("cynodeai")
      .setSubject(sub)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(crypto.randomUUID())
      .sign(key);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  return {
    accessTtlSeconds: Math.floor(opts.ttl.accessMs / 1000),
    revoked,
    issueAccess: (user: { id: string; handle: string }, sessionId: string) =>
      issue("access", user.id, { user_id: user.id, handle: user.handle, sid: sessionId }),
    issueRefresh: (user: { id: string }, sessionId: string) =>
      issue("refresh", user.id, { user_id: user.id, sid: sessionId }),
    /** `keyThumbprint`: the key the node is bound to; the token dies when the node is bound to another (or reset). */
    issueNode: (node: { id: string; slug: string; keyThumbprint?: string | null }) =>
      issue("node", node.id, {
        node_id: node.id,
        node_slug: node.slug,
        ...(node.keyThumbprint ? { node_key: node.keyThumbprint } : {}),
      }),
    /** The claims of a valid, unexpired token of the expected type (of a live session for users); else undefined. */
    async verify(token: string, type: TokenType): Promise<TokenClaims | undefined> {
      try {
        const { payload } = await jwtVerify(token, key, {
          issuer: "cynodeai",
          // Only what we issue: another alg (HS384, HS512, none) or issuer is a forgery attempt, never a valid token.
          algorithms: ["HS256"],
          currentDate: now(),
        });
        if (payload.token_type !== type) return undefined;
        const claims = payload as unknown as TokenClaims;
        if (type !== "node" && (typeof claims.sid !== "string" || revoked.has(claims.sid))) return undefined;
        return claims;
      } catch {
        return undefined;
      }
    },
  };
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return m?.[1];
}

/**
 * The sessions this orchestrator knows to be ended, in memory so checking a token costs no query (decision 17).
 * Filled by this process when it ends one, and from the database and LISTEN/NOTIFY for the rest of the cluster
 * (revoked-session-listener.ts). An entry is dropped once every token of its session has expired anyway.
 */
export type RevokedSessions = ReturnType<typeof createRevokedSessions>;

export function createRevokedSessions(now: () => Date = () => new Date()) {
  const until = new Map<string, number>();
  let nextPrune = 0;

  function prune(t: number) {
    if (t < nextPrune) return;
    nextPrune = t + 60_000;
    for (const [id, end] of until) if (end <= t) until.delete(id);
  }

  return {
    add(revocations: Revocation[]): void {
      for (const r of revocations) until.set(r.id, Math.max(until.get(r.id) ?? 0, r.until.getTime()));
    },
    has(sessionId: string): boolean {
      const t = now().getTime();
      prune(t);
      return (until.get(sessionId) ?? 0) > t;
    },
    get size(): number {
      return until.size;
    },
  };
}
