/** Claims against real Postgres: users take turns on a node, whatever one of them has queued. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "bun:test";
import { insertTaskWithJob } from "../../testing/queued-job";
import { createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { connect } from "./connect";
import { claimJobForNode, finishJob, type ClaimInput } from "./job-queue";
import { registerNode } from "./nodes";
import { createUserWithPassword } from "./users";

let t: TestDatabase;
const now = new Date("2026-03-01T10:00:00Z");
const users: Record<string, string> = {};
/** The owner of each job the tests inserted, by job id. */
const ownerOf = new Map<string, string>();

beforeAll(async () => {
  t = await createTestDatabase();
  for (const handle of ["a", "b", "c"])
    users[handle] = (await createUserWithPassword(t.db, { handle, passwordHash: "x" })).id;
});
afterAll(() => t.drop());
beforeEach(async () => {
  await t.db.deleteFrom("jobs").execute();
  await t.db.deleteFrom("tasks").execute();
  await t.db.deleteFrom("nodes").execute();
  await t.db.deleteFrom("dispatch_turns").execute();
});

async function node(slug: string): Promise<string> {
  const id = crypto.randomUUID();
  await registerNode(t.db, { id, slug, workerUrl: `http://${slug}:12090`, sealedToken: "s", now });
  return id;
}

async function queue(handle: string, n: number, payload?: Parameters<typeof insertTaskWithJob>[1]) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const { jobId } = await insertTaskWithJob(t.db, payload, users[handle]);
    ownerOf.set(jobId, handle);
    ids.push(jobId);
  }
  return ids;
}

type Claimed = { jobId: string; leaseId: string; owner: string };

async function claim(nodeId: string, max = 1, extra: Partial<ClaimInput> = {}, db = t.db): Promise<Claimed | string> {
  const leaseId = crypto.randomUUID();
  const r = await claimJobForNode(db, {
    nodeId,
    maxConcurrency: max,
    inferenceJobs: true,
    leaseId,
    leaseExpiresAt: new Date(now.getTime() + 60_000),
    now,
    ...extra,
  });
  if ("none" in r) return r.none;
  return { jobId: r.job.id, leaseId, owner: ownerOf.get(r.job.id)! };
}

const claimed = (c: Claimed | string): Claimed => {
  if (typeof c === "string") throw new Error(`expected a claim, got ${c}`);
  return c;
};
const finish = (c: Claimed) => finishJob(t.db, { ...c, status: "completed", result: "{}", now });

describe("claimJobForNode: users take turns", () => {
  it("starts B's new task right after the job of A's 40 that is running, on a one-slot node", async () => {
    const n = await node("one-slot");
    await queue("a", 40);
    let running = claimed(await claim(n));
    expect(await claim(n)).toBe("node_full");
    const [bJob] = await queue("b", 1);
    const order: string[] = [running.owner];
    while (running.jobId !== bJob) {
      expect(await finish(running)).toBe(true);
      running = claimed(await claim(n));
      order.push(running.owner);
    }
    const aJobsBeforeB = order.filter((o) => o === "a").length;
    // The measured figure of the README and the report: B waited for one of A's jobs, the one already running.
    expect(aJobsBeforeB).toBe(1);
    expect(order).toEqual(["a", "b"]);
  });

  it("alternates two backlogs job by job, and a third user joining gets the next turn", async () => {
    const n = await node("one-slot");
    await queue("a", 6);
    await queue("b", 6);
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      const c = claimed(await claim(n));
      order.push(c.owner);
      await finish(c);
    }
    await queue("c", 1);
    for (let i = 0; i < 3; i++) {
      const c = claimed(await claim(n));
      order.push(c.owner);
      await finish(c);
    }
    expect(order).toEqual(["a", "b", "a", "b", "c", "a", "b"]);
  });

  it("gives a free slot to the user with the fewest jobs running", async () => {
    const n = await node("three-slots");
    await queue("a", 5);
    await queue("b", 5);
    const first = [claimed(await claim(n, 3)), claimed(await claim(n, 3)), claimed(await claim(n, 3))];
    expect(first.map((c) => c.owner)).toEqual(["a", "b", "a"]);
    await finish(first[1]!);
    // A still runs two, B none: B's turn, though A waited longer since its last claim.
    expect(claimed(await claim(n, 3)).owner).toBe("b");
    expect(await claim(n, 3)).toBe("node_full");
  });

  it("passes over a user whose jobs this node may not take", async () => {
    const plain = await node("plain");
    await queue("a", 3, { image: "i", command: ["cynode-prompt"], use_inference: true });
    await queue("a", 1, { image: "i", command: ["true"], network_policy: "restricted" });
    const [bJob] = await queue("b", 1);
    const c = claimed(await claim(plain, 1, { inferenceJobs: false }));
    expect([c.owner, c.jobId]).toEqual(["b", bJob!]);
    expect(await claim(plain, 2, { inferenceJobs: false })).toBe("queue_empty");
  });

  it("falls back to the oldest free job when the jobs of every owner it tried are held by concurrent claims", async () => {
    const n = await node("busy");
    const handles = Array.from({ length: 9 }, (_, i) => `u${i}`);
    for (const handle of handles)
      users[handle] ??= (await createUserWithPassword(t.db, { handle, passwordHash: "x" })).id;
    const jobs: string[] = [];
    for (const handle of handles) jobs.push(...(await queue(handle, 1)));
    const other = connect(t.url);
    let unlock = () => {};
    const held = new Promise<void>((resolve) => (unlock = resolve));
    let locked = () => {};
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const holder = other.transaction().execute(async (tx) => {
      await tx.selectFrom("jobs").select("id").where("id", "in", jobs.slice(0, 8)).forUpdate().execute();
      locked();
      await held;
    });
    try {
      await lockTaken;
      expect(claimed(await claim(n)).jobId).toBe(jobs[8]!);
    } finally {
      unlock();
      await holder;
      await other.destroy();
    }
  });
});

describe("claimJobForNode across orchestrators", () => {
  it("never hands one job out twice nor fills a node past its slots when two databases claim at once", async () => {
    const nodes = [await node("n1"), await node("n2"), await node("n3")];
    await queue("a", 20);
    await queue("b", 20);
    await queue("c", 5);
    const other = connect(t.url);
    try {
      const attempts = [t.db, other].flatMap((db) =>
        Array.from({ length: 12 }, (_, i) => claim(nodes[i % 3]!, 2, {}, db)),
      );
      const won = (await Promise.all(attempts)).filter((c): c is Claimed => typeof c !== "string");
      expect(won.length).toBe(6);
      expect(new Set(won.map((c) => c.jobId)).size).toBe(6);
      const perNode = await t.db
        .selectFrom("jobs")
        .select(["node_id", (eb) => eb.fn.countAll<string>().as("n")])
        .where("status", "=", "running")
        .groupBy("node_id")
        .execute();
      // Turns are exact claim by claim; claims racing each other read the turns as they were, so only these hold.
      expect(perNode.map((r) => Number(r.n))).toEqual([2, 2, 2]);
    } finally {
      await other.destroy();
    }
  });
});
