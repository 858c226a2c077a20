/** Chat agent runs on a real database: leased, checkpointed, and a disabled user's orphan finished without working. */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { memoryLogger } from "../../lib/log";
import { createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { until } from "../../testing/until";
import { orphanedCheckpoints } from "../db/workflow-leases";
import type { ChatContext } from "../gateway/chat-completion";
import type { TaskDeps } from "../gateway/tasks";
import { resumeOrphanedRuns } from "./agent-resumer";
import { AGENT_RUN_KIND, beginAgentRun, takeOverAgentRun, type AgentRunState } from "./agent-runs";

let t: TestDatabase;
beforeAll(async () => void (t = await createTestDatabase()));
afterAll(() => t.drop());

const user = async (active: boolean) => {
  const id = crypto.randomUUID();
  await t.db
    .insertInto("users")
    .values({ id, handle: `u-${id}`, email: null, external_source: null, external_id: null, is_active: active })
    .execute();
  return { id, handle: `u-${id}`, sessionId: "s" };
};
const state = (u: { id: string; handle: string; sessionId: string }): AgentRunState => ({
  kind: AGENT_RUN_KIND,
  user: u,
  project_id: null,
  thread_id: crypto.randomUUID(),
  messages: [{ role: "user", content: "hi" }],
});

/** The workflow checkpoint row of the agent run `runId`. */
const checkpointOf = (runId: string) =>
  t.db.selectFrom("workflow_checkpoints").selectAll().where("task_id", "=", runId).executeTakeFirstOrThrow();

describe("chat agent runs", () => {
  it("are held while their lease lasts, and orphaned once it runs out", async () => {
    const holder = { holder: "a", leaseMs: 60_000 };
    const run = await beginAgentRun(t.db, holder, state(await user(true)));
    expect(await takeOverAgentRun(t.db, { holder: "b", leaseMs: 60_000 }, run.id, run.state)).toBeUndefined();
    await run.step([...run.state.messages, { role: "assistant", content: "x" }]);
    const cp = await checkpointOf(run.id);
    expect(cp.last_node_id).toBe("step-1");
    expect(await orphanedCheckpoints(t.db, AGENT_RUN_KIND, new Date())).toEqual([]);
    await run.finish(run.state.messages);
    expect(await orphanedCheckpoints(t.db, AGENT_RUN_KIND, new Date(Date.now() + 120_000))).toEqual([]);
  });

  it("of a disabled user are finished by the resumer without going on", async () => {
    const run = await beginAgentRun(t.db, { holder: "dead", leaseMs: 1 }, state(await user(false)));
    await until(async () => (await orphanedCheckpoints(t.db, AGENT_RUN_KIND, new Date())).length === 1, "the orphan");
    const chat = { db: t.db, log: memoryLogger("runs") } as unknown as ChatContext;
    const pm = { chat, tasks: {} as TaskDeps, runs: { holder: "live", leaseMs: 60_000 } };
    expect(await resumeOrphanedRuns(pm)).toBe(0);
    const cp = await checkpointOf(run.id);
    expect(cp.last_node_id).toBe("done");
  });
});
