/** HS256 JWTs (jose) for users (access, refresh) and nodes, with the reference's claims (reference-contracts 5, 2.2). */
import { SignJWT, jwtVerify } from "jose";

export type TokenType = "access" | "refresh" | "node";

export type TokenClaims = {
  sub: string;
  jti: string;
  token_type: TokenType;
  exp: number;
  user_id?: string;
  handle?: string;
  node_id?: string;
  node_slug?: string;
};

export type TokenTtls = { accessMs: number; refreshMs: number; nodeMs: number };

export type Tokens = ReturnType<typeof createTokens>;

export function createTokens(opts: { secret: string; ttl: TokenTtls; now?: () => Date }) {
  const key = new TextEncoder().encode(opts.secret);
  const now = opts.now ?? (() => new Date());
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
    issueAccess: (user: { id: string; handle: string }) =>
      issue("access", user.id, { user_id: user.id, handle: user.handle }),
    issueRefresh: (user: { id: string }) => issue("refresh", user.id, { user_id: user.id }),
    issueNode: (node: { id: string; slug: string }) =>
      issue("node", node.id, { node_id: node.id, node_slug: node.slug }),
    /** The claims of a valid, unexpired token of the expected type; undefined otherwise. */
    async verify(token: string, type: TokenType): Promise<TokenClaims | undefined> {
      try {
        const { payload } = await jwtVerify(token, key, {
          issuer: "cynodeai",
          algorithms: ["HS256", "HS384", "HS512"],
          currentDate: now(),
        });
        return payload.token_type === type ? (payload as unknown as TokenClaims) : undefined;
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
