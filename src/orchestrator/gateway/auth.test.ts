import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import type { Db } from "../db/connect";
import { createOrchestratorMetrics } from "../metrics";
import { PASSWORD, problemOf, startGatewayFixture, type GatewayFixture } from "../../testing/gateway-fixture";

let f: GatewayFixture;
beforeAll(async () => void (f = await startGatewayFixture()));
afterAll(() => f.close());

const audit = (event: string) =>
  f.t.db.selectFrom("auth_audit_log").selectAll().where("event_type", "=", event).execute();

describe("POST /v1/auth/login", () => {
  it("returns a bearer token pair whose expires_in derives from the access TTL", async () => {
    const res = await f.call("POST", "/v1/auth/login", { body: { handle: "alice", password: PASSWORD } });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 900 });
    expect(await f.tokens.verify(body.access_token, "access")).toMatchObject({
      handle: "alice",
      user_id: f.users.alice,
    });
    expect(await f.tokens.verify(body.refresh_token, "refresh")).toBeTruthy();
    expect((await audit("login_success")).some((r) => r.user_id === f.users.alice)).toBe(true);
  });

  it("answers a wrong password and an unknown user alike with 401 Invalid credentials, and audits why", async () => {
    for (const body of [
      { handle: "alice", password: "nope" },
      { handle: "nobody", password: "x" },
    ]) {
      const p = await problemOf(await f.call("POST", "/v1/auth/login", { body }));
      expect(p).toMatchObject({
        status: 401,
        contentType: "application/problem+json",
        body: { type: "urn:cynodeai:error:authentication", title: "Unauthorized", detail: "Invalid credentials" },
      });
    }
    const reasons = (await audit("login_failure")).map((r) => r.reason);
    expect(reasons).toEqual(expect.arrayContaining(["invalid password", "user not found"]));
  });

  it("rejects malformed JSON, wrong types and empty fields with 400", async () => {
    expect((await problemOf(await f.call("POST", "/v1/auth/login", { raw: "{nope" }))).body.detail).toBe(
      "Invalid request body",
    );
    expect(
      (await problemOf(await f.call("POST", "/v1/auth/login", { body: { handle: 5, password: [] } }))).body.detail,
    ).toBe("Invalid request body");
    const empty = await problemOf(await f.call("POST", "/v1/auth/login", { body: { handle: "", password: "" } }));
    expect(empty).toMatchObject({ status: 400, body: { detail: "Handle and password are required" } });
  });

  it("never writes the password into a log line", async () => {
    await f.call("POST", "/v1/auth/login", { body: { handle: "alice", password: "hunter2-secret" } });
    expect(JSON.stringify(f.log.lines)).not.toContain("hunter2-secret");
  });
});

describe("login rate limits", () => {
  let g: GatewayFixture;
  // Only the login counters are read here, so the database behind the gauges is never queried.
  const metrics = createOrchestratorMetrics({} as Db);
  beforeAll(
    async () =>
      void (g = await startGatewayFixture({
        handles: ["carol", "dave"],
        limiter: { perMinute: 3, maxFailures: 2, lockoutMs: 60_000 },
        deps: { metrics },
      })),
  );
  const counter = async (name: string) =>
    parsePrometheusTextFormat(`${await metrics.registry.getSingleMetricAsString(name)}\n`)[0]?.metrics ?? [];
  afterAll(() => g.close());

  it("locks a handle out after consecutive failures, even with the right password, with 429", async () => {
    for (let i = 0; i < 2; i++)
      await g.call("POST", "/v1/auth/login", {
        body: { handle: "carol", password: "bad" },
        headers: { "x-forwarded-for": `10.1.0.${i}` },
      });
    const res = await g.call("POST", "/v1/auth/login", {
      body: { handle: "carol", password: PASSWORD },
      headers: { "x-forwarded-for": "10.1.0.9" },
    });
    const p = await problemOf(res);
    expect(p).toMatchObject({
      status: 429,
      body: { type: "urn:cynodeai:error:rate_limit", detail: "Too many login attempts" },
    });
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    const rows = await g.t.db
      .selectFrom("auth_audit_log")
      .select("reason")
      .where("reason", "=", "rate limited")
      .execute();
    expect(rows.length).toBeGreaterThan(0);
    expect(await counter("cynode_login_lockouts_total")).toEqual([{ value: "1" }]);
    expect(await counter("cynode_login_failures_total")).toEqual(
      expect.arrayContaining([
        { labels: { reason: "invalid_password" }, value: "2" },
        { labels: { reason: "rate_limited" }, value: "1" },
      ]),
    );
  });

  it("limits attempts per client IP across handles", async () => {
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push(
        (
          await g.call("POST", "/v1/auth/login", {
            body: { handle: `x${i}`, password: "bad" },
            headers: { "x-forwarded-for": "10.9.9.9" },
          })
        ).status,
      );
    expect(statuses).toEqual([401, 401, 401, 429]);
  });
});

describe("client address without a trusted proxy", () => {
  let g: GatewayFixture;
  beforeAll(
    async () =>
      void (g = await startGatewayFixture({ handles: [], limiter: { perMinute: 3 }, trustProxyHeaders: false })),
  );
  afterAll(() => g.close());

  it("ignores forged X-Forwarded-For headers: the per-IP limit still applies to the socket peer", async () => {
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push(
        (
          await g.call("POST", "/v1/auth/login", {
            body: { handle: `y${i}`, password: "bad" },
            headers: { "x-forwarded-for": `10.7.0.${i}` },
          })
        ).status,
      );
    expect(statuses).toEqual([401, 401, 401, 429]);
    const ips = await g.t.db.selectFrom("auth_audit_log").select("ip_address").distinct().execute();
    expect(ips).toEqual([{ ip_address: "127.0.0.1" }]);
  });
});

describe("POST /v1/auth/refresh", () => {
  it("rotates: the new pair works, the old refresh token does not", async () => {
    const first = await f.login("bob");
    const res = await f.call("POST", "/v1/auth/refresh", { body: { refresh_token: first.refresh_token } });
    expect(res.status).toBe(200);
    const second = await res.json();
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect((await f.call("GET", "/v1/users/me", { token: second.access_token })).status).toBe(200);
    const reuse = await problemOf(
      await f.call("POST", "/v1/auth/refresh", { body: { refresh_token: first.refresh_token } }),
    );
    expect(reuse).toMatchObject({ status: 401, body: { detail: "Invalid refresh token" } });
  });

  it("revokes the whole session family when a rotated token is reused", async () => {
    const first = await f.login("bob");
    const second = await (
      await f.call("POST", "/v1/auth/refresh", { body: { refresh_token: first.refresh_token } })
    ).json();
    const other = await f.login("bob"); // a separate login is another family and survives
    expect((await f.call("POST", "/v1/auth/refresh", { body: { refresh_token: first.refresh_token } })).status).toBe(
      401,
    );
    expect((await f.call("POST", "/v1/auth/refresh", { body: { refresh_token: second.refresh_token } })).status).toBe(
      401,
    );
    expect((await f.call("POST", "/v1/auth/refresh", { body: { refresh_token: other.refresh_token } })).status).toBe(
      200,
    );
    const reasons = (await audit("refresh_failure")).map((r) => r.reason);
    expect(reasons).toContain("refresh token reuse");
  });

  it("rejects an access token, garbage, empty and malformed bodies", async () => {
    const { access_token } = await f.login("alice");
    expect((await f.call("POST", "/v1/auth/refresh", { body: { refresh_token: access_token } })).status).toBe(401);
    expect((await f.call("POST", "/v1/auth/refresh", { body: { refresh_token: "garbage" } })).status).toBe(401);
    expect(
      (await problemOf(await f.call("POST", "/v1/auth/refresh", { body: { refresh_token: "" } }))).body.detail,
    ).toBe("Refresh token is required");
    expect((await problemOf(await f.call("POST", "/v1/auth/refresh", { raw: "[" }))).body.detail).toBe(
      "Invalid request body",
    );
  });

  it("refuses a disabled account", async () => {
    const { refresh_token } = await f.login("alice");
    await f.t.db.updateTable("users").set({ is_active: false }).where("id", "=", f.users.alice!).execute();
    const p = await problemOf(await f.call("POST", "/v1/auth/refresh", { body: { refresh_token } }));
    await f.t.db.updateTable("users").set({ is_active: true }).where("id", "=", f.users.alice!).execute();
    expect(p).toMatchObject({ status: 401, body: { detail: "Account is disabled" } });
  });
});

describe("POST /v1/auth/logout", () => {
  it("ends only the caller's own session", async () => {
    const a = await f.login("alice");
    const b = await f.login("bob");
    // Alice cannot end Bob's session by presenting his refresh token.
    expect(
      (await f.call("POST", "/v1/auth/logout", { token: a.access_token, body: { refresh_token: b.refresh_token } }))
        .status,
    ).toBe(204);
    expect((await f.call("POST", "/v1/auth/refresh", { body: { refresh_token: b.refresh_token } })).status).toBe(200);
    expect(
      (await f.call("POST", "/v1/auth/logout", { token: a.access_token, body: { refresh_token: a.refresh_token } }))
        .status,
    ).toBe(204);
    expect((await f.call("POST", "/v1/auth/refresh", { body: { refresh_token: a.refresh_token } })).status).toBe(401);
    expect((await audit("logout")).length).toBeGreaterThanOrEqual(2);
  });

  it("requires a token and a JSON body", async () => {
    expect((await problemOf(await f.call("POST", "/v1/auth/logout", { body: {} }))).body.detail).toBe(
      "Missing authorization header",
    );
    const { access_token } = await f.login("alice");
    expect((await f.call("POST", "/v1/auth/logout", { token: access_token, raw: "" })).status).toBe(400);
  });

  it("never writes a token into a log line", () => {
    expect(f.log.lines.length).toBeGreaterThan(10);
    expect(JSON.stringify(f.log.lines)).not.toMatch(/eyJ[\w-]+\.eyJ/);
  });
});
