/** The admin's user management: create, list, disable, enable, reset_password (reference-agents 5.1). */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { USER_API } from "../../contracts/routes";
import { PASSWORD, problemOf, startGatewayFixture, type GatewayFixture } from "../../testing/gateway-fixture";

let f: GatewayFixture;
let admin: string;
beforeAll(async () => {
  f = await startGatewayFixture({ handles: ["admin", "alice"] });
  admin = (await f.login("admin")).access_token;
});
afterAll(() => f.close());

const create = async (handle: string, extra: Record<string, unknown> = {}) =>
  f.call("POST", USER_API.createUser.path(), { token: admin, body: { handle, password: `pw-${handle}`, ...extra } });
const post = (path: string, token: string, body?: unknown) => f.call("POST", path, { token, body });
const auditOf = (event: string, userId: string) =>
  f.t.db
    .selectFrom("auth_audit_log")
    .selectAll()
    .where("event_type", "=", event)
    .where("user_id", "=", userId)
    .execute();

describe("POST /v1/users and GET /v1/users", () => {
  it("lets the admin add a user, who logs in and sees none of the admin's tasks", async () => {
    const task = await (await f.call("POST", "/v1/tasks", { token: admin, body: { prompt: "admin's secret" } })).json();
    const res = await create("dana", { email: "dana@example.org" });
    expect(res.status).toBe(201);
    const dana = await res.json();
    expect(dana).toEqual({ id: expect.any(String), handle: "dana", email: "dana@example.org", is_active: true });
    expect(await auditOf("user_created", dana.id)).toHaveLength(1);
    const token = (await f.login("dana", "pw-dana")).access_token;
    expect((await (await f.call("GET", "/v1/tasks", { token })).json()).tasks).toEqual([]);
    for (const path of [
      `/v1/tasks/${task.task_id}`,
      `/v1/tasks/${task.task_id}/result`,
      `/v1/tasks/${task.task_id}/logs`,
    ])
      expect((await f.call("GET", path, { token })).status).toBe(403);
    expect((await f.call("GET", `/v1/tasks/${task.task_id}`, { token: admin })).status).toBe(200);
  });

  it("answers 409 to a duplicate handle and 400 to an empty one", async () => {
    expect((await create("erin")).status).toBe(201);
    expect(await problemOf(await create("erin"))).toMatchObject({
      status: 409,
      body: { detail: "User already exists" },
    });
    expect((await create(" ")).status).toBe(400);
  });

  it("lists every user for the admin only; others get 403 problem+json on every admin route", async () => {
    const list = await (await f.call("GET", USER_API.listUsers.path(), { token: admin })).json();
    expect(list.users.map((u: { handle: string }) => u.handle)).toEqual(expect.arrayContaining(["admin", "alice"]));
    const alice = (await f.login("alice")).access_token;
    const id = f.users.admin!;
    const answers = [
      await f.call("GET", USER_API.listUsers.path(), { token: alice }),
      await post(USER_API.createUser.path(), alice, { handle: "x", password: "y" }),
      await post(USER_API.disableUser.path({ id }), alice),
      await post(USER_API.enableUser.path({ id }), alice),
      await post(USER_API.resetPassword.path({ id }), alice, { password: "z" }),
    ];
    for (const r of answers)
      expect(await problemOf(r)).toMatchObject({
        status: 403,
        contentType: "application/problem+json",
        body: { detail: "Admin required" },
      });
    expect((await f.call("GET", USER_API.listUsers.path())).status).toBe(401);
  });
});

describe("disable, enable, reset_password", () => {
  it("a disabled user's tokens die at once and its login fails exactly like a wrong password", async () => {
    const id = (await (await create("frank")).json()).id;
    const s = await f.login("frank", "pw-frank");
    const disabled = await post(USER_API.disableUser.path({ id }), admin);
    expect([disabled.status, await disabled.json()]).toEqual([200, { id, handle: "frank", is_active: false }]);
    expect((await f.call("GET", USER_API.me.path(), { token: s.access_token })).status).toBe(401);
    expect((await post(USER_API.refresh.path(), "", { refresh_token: s.refresh_token })).status).toBe(401);
    const login = (password: string) => post(USER_API.login.path(), "", { handle: "frank", password });
    const [right, wrong] = [await problemOf(await login("pw-frank")), await problemOf(await login("nope"))];
    expect(right).toEqual(wrong);
    expect(right.status).toBe(401);
    expect(await auditOf("user_disabled", id)).toHaveLength(1);
    const enabled = await post(USER_API.enableUser.path({ id }), admin);
    expect([enabled.status, (await enabled.json()).is_active]).toEqual([200, true]);
    expect((await login("pw-frank")).status).toBe(200);
    expect(await auditOf("user_enabled", id)).toHaveLength(1);
  });

  it("reset_password sets the password and ends the sessions", async () => {
    const id = (await (await create("gina")).json()).id;
    const s = await f.login("gina", "pw-gina");
    expect((await post(USER_API.resetPassword.path({ id }), admin, { password: "new-pw" })).status).toBe(204);
    expect((await f.call("GET", USER_API.me.path(), { token: s.access_token })).status).toBe(401);
    expect((await post(USER_API.login.path(), "", { handle: "gina", password: "pw-gina" })).status).toBe(401);
    expect((await f.login("gina", "new-pw")).access_token).toBeString();
    expect(await auditOf("password_reset", id)).toHaveLength(1);
  });

  it("answers 404 to an unknown id, 400 to a malformed one and to an empty password", async () => {
    const unknown = crypto.randomUUID();
    for (const path of [USER_API.disableUser.path({ id: unknown }), USER_API.enableUser.path({ id: unknown })])
      expect(await problemOf(await post(path, admin))).toMatchObject({
        status: 404,
        body: { detail: "User not found" },
      });
    expect((await post(USER_API.resetPassword.path({ id: unknown }), admin, { password: "p" })).status).toBe(404);
    expect((await post(USER_API.disableUser.path({ id: "nope" }), admin)).status).toBe(400);
    expect((await post(USER_API.resetPassword.path({ id: f.users.alice! }), admin, { password: "" })).status).toBe(400);
    expect((await f.login("alice", PASSWORD)).access_token).toBeString();
  });
});
