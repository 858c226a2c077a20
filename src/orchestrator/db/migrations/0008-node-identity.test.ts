import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { sql } from "kysely";
import { columnsPresent, tablesPresent } from "../../../testing/schema-present";
import { createTestDatabase, type TestDatabase } from "../../../testing/test-db";
import { registerNode } from "../nodes";
import { down, up } from "./0008-node-identity";

const present = async (t: TestDatabase) =>
  [
    ...(await columnsPresent(t.db, "nodes", ["public_key", "key_thumbprint", "key_bound_at"])),
    ...(await tablesPresent(t.db, ["node_proof_ids"])),
  ].sort();

describe("migration 0008-node-identity", () => {
  let t: TestDatabase;
  beforeAll(async () => void (t = await createTestDatabase()));
  afterAll(() => t.drop());

  it("leaves nodes from before it unbound, and down removes it all", async () => {
    const now = new Date();
    await down(t.db);
    expect(await present(t)).toEqual([]);
    await sql`insert into nodes (id, node_slug, status, created_at, updated_at)
      values (${crypto.randomUUID()}, 'old-node', 'active', now(), now())`.execute(t.db);
    await up(t.db);
    expect(await present(t)).toEqual(["key_bound_at", "key_thumbprint", "node_proof_ids", "public_key"]);
    const old = await t.db.selectFrom("nodes").selectAll().where("node_slug", "=", "old-node").executeTakeFirst();
    expect([old?.public_key, old?.key_thumbprint, old?.key_bound_at]).toEqual([null, null, null]);
    const key = { jwk: { kty: "EC" }, thumbprint: "tp", proofId: crypto.randomUUID(), proofExpiresAt: now };
    const bound = await registerNode(t.db, {
      id: crypto.randomUUID(),
      slug: "old-node",
      workerUrl: "http://o",
      sealedToken: "s",
      key,
      now,
    });
    expect(bound).toMatchObject({ created: false, bound: true, node: { key_thumbprint: "tp" } });
    const stored = "node" in bound ? bound.node.public_key : undefined;
    expect(typeof stored === "string" ? JSON.parse(stored) : stored).toEqual({ kty: "EC" });
  });
});
