/** The admin's nodes: GET /v1/nodes and POST /v1/nodes/{slug}/reset (decision 25). */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { USER_API } from "../../contracts/routes";
import { capabilityBase } from "../../testing/capability-report";
import { insertTaskWithJob } from "../../testing/queued-job";
import { problemOf, startGatewayFixture, type GatewayFixture } from "../../testing/gateway-fixture";
import { findNodeBySlug, recordCapability, recordConfigAck, registerNode, setConfigVersion } from "../db/nodes";

let f: GatewayFixture;
let admin: string;

/** A node in the database: registered (bound to a key when `thumbprint`), reporting `report`, live when `acked`. */
async function node(slug: string, report: Record<string, unknown>, o: { acked?: boolean; thumbprint?: string } = {}) {
  const now = new Date();
  const key = o.thumbprint
    ? { jwk: { kty: "EC" }, thumbprint: o.thumbprint, proofId: crypto.randomUUID(), proofExpiresAt: now }
    : undefined;
  const id = crypto.randomUUID();
  await registerNode(f.t.db, { id, slug, workerUrl: `http://${slug}:12090`, sealedToken: "s", key, now });
  const full = { ...capabilityBase(slug, now.toISOString(), { cpu_cores: 2, ram_mb: 2048 }), ...report };
  await recordCapability(f.t.db, { nodeId: id, report: full, hash: "h", workerUrl: undefined, now });
  if (o.acked) {
    await setConfigVersion(f.t.db, { nodeId: id, version: "v1", hash: "c", now });
    await recordConfigAck(f.t.db, { nodeId: id, version: "v1", status: "applied", at: now, error: null, now });
  }
  return id;
}

beforeAll(async () => {
  f = await startGatewayFixture({ handles: ["admin", "alice"] });
  admin = (await f.login("admin")).access_token;
});
afterAll(() => f.close());

describe("GET /v1/nodes", () => {
  it("lists every node with status, liveness, last seen, capacity and models", async () => {
    const busy = await node(
      "n-live",
      { sandbox: { supported: true, max_concurrency: 3 }, inference: { running: true, available_models: ["m1"] } },
      { acked: true, thumbprint: "tp-live" },
    );
    await node("n-idle", { sandbox: { supported: false } });
    const { jobId } = await insertTaskWithJob(f.t.db);
    await f.t.db.updateTable("jobs").set({ status: "running", node_id: busy }).where("id", "=", jobId).execute();

    const res = await f.call("GET", USER_API.listNodes.path(), { token: admin });
    expect(res.status).toBe(200);
    const { nodes } = await res.json();
    expect(nodes).toEqual([
      {
        node_slug: "n-idle",
        status: "active",
        live: false,
        last_seen_at: expect.any(String),
        worker_api_url: "http://n-idle:12090",
        capacity: { max_concurrency: 0, running: 0 },
        models: [],
        key_bound: false,
      },
      {
        node_slug: "n-live",
        status: "active",
        live: true,
        last_seen_at: expect.any(String),
        worker_api_url: "http://n-live:12090",
        capacity: { max_concurrency: 3, running: 1 },
        models: ["m1"],
        key_bound: true,
      },
    ]);
  });

  it("answers others 403 Admin required and no token 401, on both routes", async () => {
    const alice = (await f.login("alice")).access_token;
    for (const r of [
      await f.call("GET", USER_API.listNodes.path(), { token: alice }),
      await f.call("POST", USER_API.resetNode.path({ slug: "n-live" }), { token: alice }),
    ])
      expect(await problemOf(r)).toMatchObject({ status: 403, body: { detail: "Admin required" } });
    expect((await f.call("GET", USER_API.listNodes.path())).status).toBe(401);
    expect((await f.call("POST", USER_API.resetNode.path({ slug: "n-live" }))).status).toBe(401);
    expect((await findNodeBySlug(f.t.db, "n-live"))?.key_thumbprint).toBe("tp-live");
  });
});

describe("POST /v1/nodes/{slug}/reset", () => {
  it("forgets the key, takes the node out of work until it registers again, and is audited", async () => {
    await node("n-reset", {}, { acked: true, thumbprint: "tp-reset" });
    const res = await f.call("POST", USER_API.resetNode.path({ slug: "n-reset" }), { token: admin });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ node_slug: "n-reset", status: "inactive", live: false, key_bound: false });
    const audit = await f.t.db
      .selectFrom("auth_audit_log")
      .selectAll()
      .where("event_type", "=", "node_reset")
      .executeTakeFirst();
    expect(audit).toMatchObject({ success: true, user_id: f.users.admin, reason: "node n-reset reset by admin" });
    expect(
      await problemOf(await f.call("POST", USER_API.resetNode.path({ slug: "nope" }), { token: admin })),
    ).toMatchObject({ status: 404, body: { detail: "Node not found" } });
  });
});
