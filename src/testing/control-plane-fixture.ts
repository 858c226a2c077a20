/**
 * TEST SUPPORT: the real control-plane on a fresh test database, over real HTTP, for tests of a worker node that
 * registers with it, on a clock the test moves. Node tokens live an hour; the PSK is the one testNodeConfig uses.
 */
import { createSecretBox, keyFromPassphrase } from "../orchestrator/auth/secret-box";
import { createTokens } from "../orchestrator/auth/tokens";
import { createControlPlane, type ControlPlaneDeps } from "../orchestrator/control-plane/app";
import { liveNodes } from "../orchestrator/db/nodes";
import { memoryLogger } from "../lib/log";
import { TEST_NODE_PSK } from "./node-config";
import { createTestDatabase, type TestDatabase } from "./test-db";

export const TEST_WORKER_TOKEN = "worker-token-from-orchestrator";

/** The control-plane app on `deps.db` with test secrets, a memory log and the PSK `psk`; `deps` adds or replaces. */
export const testControlPlane = (deps: Pick<ControlPlaneDeps, "db" | "tokens"> & Partial<ControlPlaneDeps>) =>
  createControlPlane({
    secrets: createSecretBox(keyFromPassphrase("test-control-plane")),
    log: memoryLogger("cp"),
    registrationPsk: "psk",
    publicUrl: "http://cp.test",
    ...deps,
  });

export type ControlPlaneFixture = Awaited<ReturnType<typeof startControlPlaneFixture>>;

export async function startControlPlaneFixture() {
  const t: TestDatabase = await createTestDatabase();
  // Real time to start with: a node process signs its identity proof with its own clock.
  let clock = new Date();
  const now = () => clock;
  let app: ReturnType<typeof createControlPlane> | undefined;
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => app!.fetch(req) });
  const deps = {
    db: t.db,
    tokens: createTokens({
      secret: "control-plane-fixture-secret-0123456789",
      ttl: { accessMs: 900_000, refreshMs: 86_400_000, nodeMs: 3_600_000 },
      now,
    }),
    secrets: createSecretBox(keyFromPassphrase("control-plane-fixture")),
    log: memoryLogger("cp"),
    registrationPsk: TEST_NODE_PSK,
    publicUrl: server.url.toString(),
    now,
    newWorkerToken: () => TEST_WORKER_TOKEN,
  };
  const open = createControlPlane(deps);
  // A sandbox policy no test node accepts: its config ack is `failed`.
  const strict = createControlPlane({ ...deps, sandboxPolicy: { allowed_images: ["localhost/other:latest"] } });
  app = open;
  const node = (slug: string) => t.db.selectFrom("nodes").selectAll().where("node_slug", "=", slug);
  return {
    url: server.url.toString(),
    now,
    advance(ms: number): void {
      clock = new Date(clock.getTime() + ms);
    },
    /** Runs `fn` while the control-plane's sandbox policy refuses every image of the test nodes. */
    async withStrictPolicy<T>(fn: () => Promise<T>): Promise<T> {
      app = strict;
      try {
        return await fn();
      } finally {
        app = open;
      }
    },
    nodeRow: (slug: string) => node(slug).executeTakeFirstOrThrow(),
    dispatchable: async (slug: string) => (await liveNodes(t.db, { now: now() })).find((n) => n.node_slug === slug),
    /** The node's capability snapshots, newest first. */
    async capabilityReports(slug: string): Promise<Record<string, unknown>[]> {
      const rows = await t.db
        .selectFrom("node_capabilities")
        .innerJoin("nodes", "nodes.id", "node_capabilities.node_id")
        .where("node_slug", "=", slug)
        .select("node_capabilities.capability_snapshot")
        .orderBy("node_capabilities.reported_at", "desc")
        .execute();
      const parse = (s: unknown) => (typeof s === "string" ? JSON.parse(s) : s) as Record<string, unknown>;
      return rows.map((r) => parse(r.capability_snapshot));
    },
    async stop(): Promise<void> {
      await server.stop(true);
      await t.drop();
    },
  };
}
