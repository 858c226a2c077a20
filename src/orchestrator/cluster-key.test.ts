import { afterEach, describe, expect, it } from "bun:test";
import { createSecretBox, keyFromPassphrase } from "./auth/secret-box";
import { KEY_MISMATCH, verifyClusterKey } from "./cluster-key";
import { registerNode } from "./db/nodes";
import { createTestDatabase, type TestDatabase } from "../testing/test-db";

const box = (passphrase: string) => createSecretBox(keyFromPassphrase(passphrase));

let t: TestDatabase | undefined;
afterEach(async () => {
  await t?.drop();
  t = undefined;
});

describe("verifyClusterKey", () => {
  it("records the first key, accepts the same key again and refuses another, naming ORCHESTRATOR_SECRET_KEY", async () => {
    t = await createTestDatabase();
    expect(await verifyClusterKey(t.db, box("cluster key"))).toBe("recorded");
    expect(await verifyClusterKey(t.db, box("cluster key"))).toBe("verified");
    await expect(verifyClusterKey(t.db, box("another key"))).rejects.toThrow(KEY_MISMATCH);
    expect(KEY_MISMATCH).toContain("ORCHESTRATOR_SECRET_KEY");
  });

  it("lets orchestrators that start at once with the same key all start", async () => {
    t = await createTestDatabase();
    const outcomes = await Promise.all([1, 2, 3].map(() => verifyClusterKey(t!.db, box("cluster key"))));
    expect(outcomes.filter((o) => o === "recorded")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "verified")).toHaveLength(2);
  });

  it("on a database from before the check, tests the key on a node token already sealed", async () => {
    t = await createTestDatabase();
    const node = { id: crypto.randomUUID(), slug: "n1", workerUrl: undefined, now: new Date() };
    await registerNode(t.db, { ...node, sealedToken: box("old key").seal("worker token") });
    await expect(verifyClusterKey(t.db, box("new key"))).rejects.toThrow(KEY_MISMATCH);
    expect(await verifyClusterKey(t.db, box("old key"))).toBe("recorded");
  });
});
