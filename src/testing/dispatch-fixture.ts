/**
 * TEST SUPPORT for the dispatcher's tests: per test a fresh database, a control-plane to walk nodes to dispatchable,
 * fake workers stopped afterwards, a fixed clock, and readers of the rows and log lines the tests check.
 */
import { afterEach, beforeEach, expect } from "bun:test";
import { memoryLogger } from "../lib/log";
import { createSecretBox, keyFromPassphrase } from "../orchestrator/auth/secret-box";
import { createTokens } from "../orchestrator/auth/tokens";
import { createControlPlane } from "../orchestrator/control-plane/app";
import {
  createDispatcher,
  startDispatcher,
  type Dispatcher,
  type DispatcherDeps,
} from "../orchestrator/dispatch/dispatch-loop";
import { startFakeWorker, type FakeWorker } from "./fake-worker";
import { insertTaskWithJob } from "./queued-job";
import { readyNode, TEST_PSK } from "./ready-node";
import { createTestDatabase, type TestDatabase } from "./test-db";

export const secrets = createSecretBox(keyFromPassphrase("dispatch-test"));
const tokens = createTokens({
  secret: "dispatch-test-secret-0123456789abcdef",
  ttl: { accessMs: 900_000, refreshMs: 86_400_000, nodeMs: 86_400_000 },
});
const START = "2026-03-01T10:00:00Z";

/** Ticks and waits for the started jobs until a pass starts nothing. */
export async function runToIdle(d: Dispatcher): Promise<void> {
  for (;;) {
    const started = await d.tick();
    await d.drain();
    if (!started) return;
  }
}

/** Registers the hooks of the file that calls it; the fields are valid inside its tests. */
export function useDispatchFixture() {
  const workers: FakeWorker[] = [];
  const f = {
    t: undefined as unknown as TestDatabase,
    log: memoryLogger("dispatch-test"),
    secrets,
    cp: undefined as unknown as ReturnType<typeof createControlPlane>,
    clock: { now: new Date(START) },
    /** Moves the clock on by `ms`. */
    advance: (ms: number) => void (f.clock.now = new Date(f.clock.now.getTime() + ms)),
    worker(opts?: { hold?: boolean }): FakeWorker {
      const w = startFakeWorker(opts);
      workers.push(w);
      return w;
    },
    /** A worker walked to a dispatchable node named `slug` with `max` slots. */
    async node(slug: string, max?: number, opts: { hold?: boolean; inference?: boolean } = {}): Promise<FakeWorker> {
      const w = f.worker(opts);
      await readyNode(f.cp, slug, w, max, opts);
      return w;
    },
    dispatcher: (extra: Partial<DispatcherDeps> = {}) =>
      createDispatcher({ db: f.t.db, secrets, log: f.log, now: () => f.clock.now, ...extra }),
    /** A dispatcher whose loop runs. */
    started: (extra: Partial<DispatcherDeps> = {}) =>
      startDispatcher({ db: f.t.db, secrets, log: f.log, now: () => f.clock.now, ...extra }),
    /** A held worker as `node-a` with one slot, one queued job, and a dispatcher whose first pass started it. */
    async heldJob(extra: Partial<DispatcherDeps> = {}) {
      const w = await f.node("node-a", 1, { hold: true });
      const job = await insertTaskWithJob(f.t.db);
      const d = f.dispatcher(extra);
      expect(await d.tick()).toBe(1);
      return { w, d, ...job };
    },
    jobRow: (id: string) => f.t.db.selectFrom("jobs").selectAll().where("id", "=", id).executeTakeFirstOrThrow(),
    taskRow: (id: string) => f.t.db.selectFrom("tasks").selectAll().where("id", "=", id).executeTakeFirstOrThrow(),
    nodeRow: (slug: string) =>
      f.t.db.selectFrom("nodes").selectAll().where("node_slug", "=", slug).executeTakeFirstOrThrow(),
    /** The `status` of each dispatch log line so far. */
    dispatched: () => f.log.lines.filter((l) => l.msg === "dispatch").map((l) => l.status),
    logged: (msg: string) => f.log.lines.filter((l) => l.msg === msg),
  };
  beforeEach(async () => {
    f.clock.now = new Date(START);
    f.t = await createTestDatabase();
    f.log = memoryLogger("dispatch-test");
    f.cp = createControlPlane({
      db: f.t.db,
      tokens,
      secrets,
      log: f.log,
      registrationPsk: TEST_PSK,
      publicUrl: "http://orch.test:12082",
    });
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop();
    await f.t.drop();
  });
  return f;
}
