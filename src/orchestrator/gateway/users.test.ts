import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { decodeJwt, SignJWT } from "jose";
import { JWT_TEST_SECRET, problemOf, startGatewayFixture, type GatewayFixture } from "../../testing/gateway-fixture";

let f: GatewayFixture;
beforeAll(async () => void (f = await startGatewayFixture()));
afterAll(() => f.close());

describe("GET /v1/users/me", () => {
  it("describes the caller", async () => {
    const { access_token } = await f.login("alice");
    expect(await (await f.call("GET", "/v1/users/me", { token: access_token })).json()).toEqual({
      id: f.users.alice!,
      handle: "alice",
      is_active: true,
    });
  });

  it("accepts the bearer scheme in any case, and refuses a token signed with another key", async () => {
    const { access_token } = await f.login("alice");
    expect((await f.call("GET", "/v1/users/me", { headers: { authorization: `bEaReR ${access_token}` } })).status).toBe(
      200,
    );
    const [h, p] = access_token.split(".");
    expect((await f.call("GET", "/v1/users/me", { token: `${h}.${p}.AAAA` })).status).toBe(401);
  });

  it("refuses the same claims signed HS512 or HS384 with the server's own secret", async () => {
    const { access_token } = await f.login("alice");
    const claims = decodeJwt(access_token);
    for (const alg of ["HS512", "HS384"]) {
      const forged = await new SignJWT(claims)
        .setProtectedHeader({ alg, typ: "JWT" })
        .sign(new TextEncoder().encode(JWT_TEST_SECRET));
      expect(await problemOf(await f.call("GET", "/v1/users/me", { token: forged }))).toMatchObject({
        status: 401,
        body: { detail: "Invalid or expired token" },
      });
    }
  });
});

describe("POST /v1/users/{id}/revoke_sessions", () => {
  it("lets the admin end every session of a user", async () => {
    const admin = (await f.login("admin")).access_token;
    const bob1 = await f.login("bob");
    const bob2 = await f.login("bob");
    expect((await f.call("POST", `/v1/users/${f.users.bob}/revoke_sessions`, { token: admin })).status).toBe(204);
    for (const s of [bob1, bob2]) {
      expect((await f.call("POST", "/v1/auth/refresh", { body: { refresh_token: s.refresh_token } })).status).toBe(401);
      expect((await f.call("GET", "/v1/users/me", { token: s.access_token })).status).toBe(401);
    }
    expect((await f.call("GET", "/v1/users/me", { token: admin })).status).toBe(200);
    const audit = await f.t.db
      .selectFrom("auth_audit_log")
      .selectAll()
      .where("event_type", "=", "session_revoked")
      .execute();
    expect(audit[0]).toMatchObject({ user_id: f.users.bob, success: true });
  });

  it("refuses non-admins with 403, bad ids with 400, unknown users with 404", async () => {
    const alice = (await f.login("alice")).access_token;
    const admin = (await f.login("admin")).access_token;
    expect(
      await problemOf(await f.call("POST", `/v1/users/${f.users.bob}/revoke_sessions`, { token: alice })),
    ).toMatchObject({ status: 403, body: { type: "urn:cynodeai:error:authorization", detail: "Admin required" } });
    expect(
      await problemOf(await f.call("POST", "/v1/users/not-a-uuid/revoke_sessions", { token: admin })),
    ).toMatchObject({ status: 400, body: { detail: "invalid user id" } });
    expect(
      await problemOf(await f.call("POST", `/v1/users/${crypto.randomUUID()}/revoke_sessions`, { token: admin })),
    ).toMatchObject({ status: 404, body: { detail: "User not found" } });
  });
});

describe("health and unknown routes", () => {
  it("answers /healthz ok and /readyz 503 with the reason while no node is dispatchable", async () => {
    const health = await f.call("GET", "/healthz");
    expect([health.status, await health.text(), health.headers.get("content-type")]).toEqual([
      200,
      "ok",
      "text/plain; charset=utf-8",
    ]);
    const ready = await f.call("GET", "/readyz");
    expect(ready.status).toBe(503);
    expect(await ready.text()).toStartWith("no inference path available");
  });

  it("answers unknown paths with a 404 problem", async () => {
    expect(await problemOf(await f.call("GET", "/v1/no-such-route"))).toMatchObject({
      status: 404,
      contentType: "application/problem+json",
    });
  });
});
