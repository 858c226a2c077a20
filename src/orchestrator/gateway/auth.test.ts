import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { connect } from "node:net";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import type { Db } from "../db/connect";
import { createLoginLimiter } from "../auth/login-limiter";
import { createOrchestratorMetrics } from "../metrics";
import { PASSWORD, problemOf, startGatewayFixture, type GatewayFixture } from "../../testing/gateway-fixture";

let f: GatewayFixture;
beforeAll(async () => void (f = await startGatewayFixture()));
afterAll(() => f.close());

/** The statuses of four failed logins through `g`, the i-th as handle `handle(i)` from X-Forwarded-For `ip(i)`. */
async function fourBadLogins(g: GatewayFixture, handle: (i: number) => string, ip: (i: number) => string) {
  const statuses = [];
  for (let i = 0; i < 4; i++) {
    const body = { handle: handle(i), password: "bad" };
    statuses.push((await g.call("POST", "/v1/auth/login", { body, headers: { "x-forwarded-for": ip(i) } })).status);
  }
  return statuses;
}

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

  it("locks the guessing (handle, address) pair with 429 and audits it, even with the right password", async () => {
    for (let i = 0; i < 2; i++)
      await g.call("POST", "/v1/auth/login", {
        body: { handle: "carol", password: "bad" },
        headers: { "x-forwarded-for": "10.1.0.1" },
      });
    const res = await g.call("POST", "/v1/auth/login", {
      body: { handle: "carol", password: PASSWORD },
      headers: { "x-forwarded-for": "10.1.0.1" },
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
        { labels: { reason: "invalid_credentials" }, value: "2" },
        { labels: { reason: "rate_limited" }, value: "1" },
      ]),
    );
  });

  it("limits attempts per client IP across handles", async () => {
    const statuses = await fourBadLogins(
      g,
      (i) => `x${i}`,
      () => "10.9.9.9",
    );
    expect(statuses).toEqual([401, 401, 401, 429]);
  });
});

/** A POST over real HTTP from a chosen loopback source address (the whole 127.0.0.0/8 is loopback). */
function postFrom(localAddress: string, url: string, body: unknown): Promise<{ status: number; body: string }> {
  const { hostname, port, pathname } = new URL(url);
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const sock = connect({ host: hostname, port: Number(port), localAddress });
    let raw = "";
    sock.on("connect", () =>
      sock.write(
        `POST ${pathname} HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\n` +
          `content-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
      ),
    );
    sock.on("data", (d) => (raw += d));
    sock.on("error", reject);
    sock.on("close", () => resolve({ status: Number(raw.split(" ")[1]), body: raw.split("\r\n\r\n")[1] ?? "" }));
  });
}

describe("lock-out an attacker cannot turn against the owner (real HTTP, distinct loopback addresses)", () => {
  let g: GatewayFixture;
  beforeAll(
    async () =>
      void (g = await startGatewayFixture({
        handles: ["erin"],
        limiter: { perMinute: 100, maxFailures: 3, lockoutMs: 60_000 },
        trustProxyHeaders: false,
      })),
  );
  afterAll(() => g.close());
  const login = (from: string, password: string) =>
    postFrom(from, g.url("/v1/auth/login"), { handle: "erin", password });

  it("logs the owner in from a clean address while the guessing address gets 429", async () => {
    const guesses = [];
    for (let i = 0; i < 3; i++) guesses.push((await login("127.0.0.2", "guess")).status);
    expect(guesses).toEqual([401, 401, 401]);
    // Others guess too, from many addresses: the handle slows down but is not locked.
    for (const from of ["127.0.0.4", "127.0.0.5", "127.0.0.6"]) expect((await login(from, "guess")).status).toBe(401);
    expect((await login("127.0.0.2", PASSWORD)).status).toBe(429);
    const owner = await login("127.0.0.3", PASSWORD);
    expect(owner.status).toBe(200);
    expect(JSON.parse(owner.body)).toHaveProperty("access_token");
    expect((await login("127.0.0.2", "guess")).status).toBe(429);

    const rows = await g.t.db.selectFrom("auth_audit_log").select(["event_type", "ip_address", "reason"]).execute();
    const of = (ip: string) => rows.filter((r) => r.ip_address === ip).map((r) => r.reason ?? r.event_type);
    expect(of("127.0.0.2")).toEqual([
      "invalid password",
      "invalid password",
      "invalid password",
      "rate limited",
      "rate limited",
    ]);
    expect(of("127.0.0.3")).toEqual(["login_success"]);
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
    const statuses = await fourBadLogins(
      g,
      (i) => `y${i}`,
      (i) => `10.7.0.${i}`,
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
    // The access tokens of the revoked family die with it; the other login's keep working.
    for (const token of [first.access_token, second.access_token])
      expect((await f.call("GET", "/v1/users/me", { token })).status).toBe(401);
    expect((await f.call("GET", "/v1/users/me", { token: other.access_token })).status).toBe(200);
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
  it("ends the caller's session, never another user's", async () => {
    const a = await f.login("alice");
    const b = await f.login("bob");
    // Alice cannot end Bob's session by presenting his refresh token; her own session ends.
    expect(
      (await f.call("POST", "/v1/auth/logout", { token: a.access_token, body: { refresh_token: b.refresh_token } }))
        .status,
    ).toBe(204);
    expect((await f.call("POST", "/v1/auth/refresh", { body: { refresh_token: b.refresh_token } })).status).toBe(200);
    expect((await f.call("POST", "/v1/auth/refresh", { body: { refresh_token: a.refresh_token } })).status).toBe(401);
    expect((await audit("logout")).length).toBeGreaterThanOrEqual(1);
  });

  it("makes the session's access token 401 at once, and leaves the user's other sessions alone", async () => {
    const s1 = await f.login("alice");
    const s2 = await f.login("alice");
    expect((await f.call("GET", "/v1/users/me", { token: s1.access_token })).status).toBe(200);
    expect((await f.call("POST", "/v1/auth/logout", { token: s1.access_token, body: {} })).status).toBe(204);
    const after = await problemOf(await f.call("GET", "/v1/users/me", { token: s1.access_token }));
    expect(after).toMatchObject({ status: 401, body: { detail: "Invalid or expired token" } });
    expect((await f.call("POST", "/v1/auth/refresh", { body: { refresh_token: s1.refresh_token } })).status).toBe(401);
    expect((await f.call("GET", "/v1/users/me", { token: s2.access_token })).status).toBe(200);
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

describe("what a refused login leaves behind", () => {
  it("reads the same in the metrics for a known and an unknown handle", async () => {
    const scrapes: string[] = [];
    for (const handle of ["alice", "nobody-at-all"]) {
      const metrics = createOrchestratorMetrics({} as Db);
      const g = await startGatewayFixture({ database: { t: f.t, users: f.users }, deps: { metrics } });
      await g.call("POST", "/v1/auth/login", { body: { handle, password: "wrong" } });
      await g.close();
      scrapes.push(
        (await metrics.registry.getSingleMetricAsString("cynode_login_failures_total")) +
          (await metrics.registry.getSingleMetricAsString("cynode_login_lockouts_total")),
      );
    }
    expect(scrapes[0]).toContain('reason="invalid_credentials"} 1');
    expect(scrapes[1]).toBe(scrapes[0]!);
  });
});

describe("the per-handle slow-down under parallel guesses", () => {
  it("gives every guess beyond the allowance its own slot, one after another", async () => {
    const slots: { slot: number; delayMs: number }[] = [];
    const limiter = createLoginLimiter({ perMinute: 1000, maxFailures: 2, lockoutMs: 60_000, maxDelayMs: 40 });
    const recording: typeof limiter = {
      ...limiter,
      attempt(ip, handle) {
        const t = Date.now();
        const verdict = limiter.attempt(ip, handle);
        if ("delayMs" in verdict) slots.push({ slot: t + verdict.delayMs, delayMs: verdict.delayMs });
        return verdict;
      },
    };
    const g = await startGatewayFixture({ database: { t: f.t, users: f.users }, deps: { limiter: recording } });
    const statuses = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const body = { handle: "bob", password: `guess-${i}` };
        return (await g.call("POST", "/v1/auth/login", { body, headers: { "x-forwarded-for": `10.7.0.${i}` } })).status;
      }),
    );
    await g.close();
    expect(statuses).toEqual(Array(8).fill(401));
    // Only the allowance goes at once; the six others wait, each at least one step after the slot before it.
    expect(slots.filter((s) => s.delayMs === 0)).toHaveLength(2);
    const waits = slots.filter((s) => s.delayMs > 0).map((s) => s.slot);
    expect(waits).toHaveLength(6);
    for (let i = 1; i < waits.length; i++) expect(waits[i]! - waits[i - 1]!).toBeGreaterThanOrEqual(40);
  });
});
