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
async function orchestrator() {
  const revoked = createRevokedSessions();
  const listener = await listenForRevokedSessions({ db: t.db, url: t.url, revoked, log });
  stops.push(listener.stop);
  const tokens = createTokens({
    secret: SECRET,
    ttl: { accessMs: 900_000, refreshMs: 86_400_000, nodeMs: 86_400_000 },
    revoked,
  });
  const app = createGateway({
    db: t.db,
    tokens,
    log,
    limiter: createLoginLimiter({ perMinute: 100, maxFailures: 100, lockoutMs: 60_000 }),
    readiness: async () => ({ ready: true }),
    jobDefaults: { sandboxImage: "i", inferenceModel: "m" },
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
  for (const handle of ["admin", "carol"]) await createUserWithPassword(t.db, { handle, passwordHash: hash });
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

describe("revocation payloads", () => {
  it("round-trip, and garbage is ignored", () => {
    const r = { id: crypto.randomUUID(), until: new Date("2026-03-01T00:00:00Z") };
    expect(parseRevocationPayload(revocationPayload(r))).toEqual(r);
    expect(parseRevocationPayload("nonsense")).toBeUndefined();
  });
});
