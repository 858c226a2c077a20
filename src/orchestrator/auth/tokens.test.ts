import { describe, expect, it } from "bun:test";
import { SignJWT, UnsecuredJWT } from "jose";
import { createTokens, createRevokedSessions } from "./tokens";

const SECRET = "tokens-test-secret-0123456789-0123456789";
const key = new TextEncoder().encode(SECRET);
const tokens = createTokens({ secret: SECRET, ttl: { accessMs: 900_000, refreshMs: 86_400_000, nodeMs: 86_400_000 } });
const claims = { token_type: "access", user_id: "u1", handle: "alice", sid: "s1" };

/** A token with our claims and issuer, signed with the server's own secret under `alg`. */
const signed = (alg: string, issuer = "cynodeai") =>
  new SignJWT(claims)
    .setProtectedHeader({ alg, typ: "JWT" })
    .setIssuer(issuer)
    .setSubject("u1")
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(key);

describe("token verification", () => {
  it("accepts HS256 with our issuer", async () => {
    expect(await tokens.verify(await signed("HS256"), "access")).toMatchObject({ handle: "alice", sid: "s1" });
  });

  it("refuses HS384, HS512 and alg none, even signed with the server's secret", async () => {
    for (const alg of ["HS384", "HS512"]) expect(await tokens.verify(await signed(alg), "access")).toBeUndefined();
    const none = new UnsecuredJWT(claims).setIssuer("cynodeai").setExpirationTime("10m").encode();
    expect(await tokens.verify(none, "access")).toBeUndefined();
  });

  it("refuses another issuer and a user token without a session", async () => {
    expect(await tokens.verify(await signed("HS256", "someone-else"), "access")).toBeUndefined();
    const noSession = await new SignJWT({ token_type: "access", user_id: "u1", handle: "alice" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("cynodeai")
      .setExpirationTime("10m")
      .sign(key);
    expect(await tokens.verify(noSession, "access")).toBeUndefined();
  });
});

describe("createRevokedSessions", () => {
  it("holds a session until its last token expires, then forgets it", () => {
    let now = new Date("2026-03-01T10:00:00Z");
    const revoked = createRevokedSessions(() => now);
    revoked.add([{ id: "s1", until: new Date("2026-03-01T10:15:00Z") }]);
    revoked.add([{ id: "s1", until: new Date("2026-03-01T10:05:00Z") }]); // an earlier bound never shortens it
    expect([revoked.has("s1"), revoked.has("s2")]).toEqual([true, false]);
    now = new Date("2026-03-01T10:16:00Z");
    expect(revoked.has("s1")).toBe(false);
    expect(revoked.size).toBe(0);
  });
});
