/**
 * Access tokens die with their session on every orchestrator of a cluster: two gateways on one database, each with
 * its own in-memory set of ended sessions kept current by LISTEN/NOTIFY; a third started later loads the set.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { USER_API } from "../../contracts/routes";
import { memoryLogger } from "../../lib/log";
import { createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { createUserWithPassword } from "../db/users";
import { parseRevocationPayload, revocationPayload } from "../db/revoked-sessions";
import { createGateway } from "../gateway/app";
import { createLoginLimiter } from "./login-limiter";
import { hashPassword } from "./passwords";
import { listenForRevokedSessions } from "./revoked-session-listener";
import { createRevokedSessions, createTokens } from "./tokens";
import { until } from "../../testing/until";

const SECRET = "cluster-secret-0123456789-0123456789";
const log = memoryLogger("cluster");
let t: TestDatabase;
const stops: (() => Promise<void>)[] = [];

/** One orchestrator's gateway: its own tokens and revoked set, listening on the shared database. */
async function orchestrator(o: { now?: () => Date; accessMs?: number; refreshMs?: number } = {}) {
  const revoked = createRevokedSessions(o.now);
  const listener = await listenForRevokedSessions({ db: t.db, url: t.url, revoked, log, now: o.now });
  stops.push(listener.stop);
  const tokens = createTokens({
    secret: SECRET,
    ttl: { accessMs: o.accessMs ?? 900_000, refreshMs: o.refreshMs ?? 86_400_000, nodeMs: 86_400_000 },
    revoked,
    now: o.now,
  });
  const app = createGateway({
    db: t.db,
    tokens,
    log,
    limiter: createLoginLimiter({ perMinute: 100, maxFailures: 100, lockoutMs: 60_000 }),
    readiness: async () => ({ ready: true }),
    jobDefaults: { sandboxImage: "i", inferenceModel: "m" },
    now: o.now,
  });
  const call = (method: string, path: string, token?: string, body?: unknown) =>
    app.request(path, {
      method,
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return { revoked, call };
}

let a: Awaited<ReturnType<typeof orchestrator>>;
let b: Awaited<ReturnType<typeof orchestrator>>;
beforeAll(async () => {
  t = await createTestDatabase();
  const hash = await hashPassword("pw");
  for (const handle of ["admin", "carol", "dave", "erin"])
    await createUserWithPassword(t.db, { handle, passwordHash: hash });
  a = await orchestrator();
  b = await orchestrator();
});
afterAll(async () => {
  for (const stop of stops) await stop();
  await t.drop();
});

const login = async (o: typeof a, handle: string) =>
  (await (await o.call("POST", USER_API.login.path(), undefined, { handle, password: "pw" })).json()) as {
    access_token: string;
    refresh_token: string;
  };
const meStatus = async (o: typeof a, token: string) => (await o.call("GET", USER_API.me.path(), token)).status;

describe("revoked sessions across orchestrators", () => {
  it("a logout on one orchestrator makes the token 401 on the other", async () => {
    const s = await login(a, "carol");
    expect([await meStatus(a, s.access_token), await meStatus(b, s.access_token)]).toEqual([200, 200]);
    expect((await a.call("POST", USER_API.logout.path(), s.access_token, {})).status).toBe(204);
    expect(await meStatus(a, s.access_token)).toBe(401); // at once where it happened
    await until(async () => (await meStatus(b, s.access_token)) === 401, "the other orchestrator to refuse it");
  });

  it("an admin's revoke_sessions on one orchestrator reaches the other", async () => {
    const carol = await login(b, "carol");
    const admin = await login(a, "admin");
    const users = await t.db.selectFrom("users").select(["id", "handle"]).execute();
    const carolId = users.find((u) => u.handle === "carol")!.id;
    expect((await a.call("POST", USER_API.revokeSessions.path({ id: carolId }), admin.access_token)).status).toBe(204);
    await until(async () => (await meStatus(b, carol.access_token)) === 401, "revoke_sessions to reach b");
    expect(await meStatus(b, admin.access_token)).toBe(200);
  });

  it("an orchestrator started later loads the sessions ended before it", async () => {
    const s = await login(a, "carol");
    expect((await a.call("POST", USER_API.logout.path(), s.access_token, {})).status).toBe(204);
    const late = await orchestrator();
    expect(await meStatus(late, s.access_token)).toBe(401);
    expect(late.revoked.size).toBeGreaterThanOrEqual(3);
  });
});

const idOf = async (handle: string) =>
  (await t.db.selectFrom("users").select("id").where("handle", "=", handle).executeTakeFirstOrThrow()).id;

describe("disabling and the lifetime of a revocation across orchestrators", () => {
  it("a user disabled on one orchestrator gets 401 at once there and on the other", async () => {
    const erin = await login(b, "erin");
    const admin = await login(a, "admin");
    expect(await meStatus(b, erin.access_token)).toBe(200);
    const res = await a.call("POST", USER_API.disableUser.path({ id: await idOf("erin") }), admin.access_token);
    expect(res.status).toBe(200);
    expect(await meStatus(a, erin.access_token)).toBe(401);
    await until(async () => (await meStatus(b, erin.access_token)) === 401, "the disable to reach b");
    expect(
      (await b.call("POST", USER_API.refresh.path(), undefined, { refresh_token: erin.refresh_token })).status,
    ).toBe(401);
  });

  it("a logged-out access token stays refused after the refresh lifetime (access 10 min, refresh 1 min)", async () => {
    let clock = Date.now();
    const now = () => new Date(clock);
    const ttl = { now, accessMs: 600_000, refreshMs: 60_000 };
    const [x, y] = [await orchestrator(ttl), await orchestrator(ttl)];
    const s = await login(x, "carol");
    expect((await x.call("POST", USER_API.logout.path(), s.access_token, {})).status).toBe(204);
    await until(async () => (await meStatus(y, s.access_token)) === 401, "the logout to reach y");
    clock += 70_000; // past the refresh lifetime, well within the access token's
    expect([await meStatus(x, s.access_token), await meStatus(y, s.access_token)]).toEqual([401, 401]);
    expect(await meStatus(await orchestrator(ttl), s.access_token)).toBe(401); // one started now loads it too
  });
});

describe("refresh racing a revocation", () => {
  it("leaves no live token of a revoked user, whichever orchestrator refreshed", async () => {
    const sessions = await Promise.all(Array.from({ length: 10 }, () => login(a, "dave")));
    const access: string[] = sessions.map((s) => s.access_token);
    // Each session refreshes again and again, through both orchestrators in turn, while the admin revokes.
    const chain = async (refresh_token: string) => {
      for (let i = 0; ; i++) {
        const res = await (i % 2 ? a : b).call("POST", USER_API.refresh.path(), undefined, { refresh_token });
        if (res.status !== 200) return refresh_token;
        const next = (await res.json()) as { access_token: string; refresh_token: string };
        access.push(next.access_token);
        refresh_token = next.refresh_token;
      }
    };
    const chains = sessions.map((s) => chain(s.refresh_token));
    await until(async () => access.length >= 30, "refreshes to be under way");
    const admin = await login(b, "admin");
    expect(
      (await a.call("POST", USER_API.revokeSessions.path({ id: await idOf("dave") }), admin.access_token)).status,
    ).toBe(204);
    const last = await Promise.all(chains);
    for (const refresh_token of last)
      expect((await b.call("POST", USER_API.refresh.path(), undefined, { refresh_token })).status).toBe(401);
    const live = async (o: typeof a) =>
      (await Promise.all(access.map((tk) => meStatus(o, tk)))).filter((st) => st !== 401);
    await until(async () => (await live(a)).length === 0 && (await live(b)).length === 0, "every token to be refused");
    const open = await t.db
      .selectFrom("refresh_sessions")
      .select("id")
      .where("user_id", "=", await idOf("dave"))
      .where("is_active", "=", true)
      .execute();
    expect(open).toEqual([]);
  });
});

describe("revocation payloads", () => {
  it("round-trip, and garbage is ignored", () => {
    const r = { id: crypto.randomUUID(), until: new Date("2026-03-01T00:00:00Z") };
    expect(parseRevocationPayload(revocationPayload(r))).toEqual(r);
    expect(parseRevocationPayload("nonsense")).toBeUndefined();
  });
});
