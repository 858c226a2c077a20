/**
 * Takes over the chat agent's orphaned runs (decision 26): every interval, runs whose orchestrator died mid-step
 * (lease expired, not done) are leased to this one and go on from their last checkpoint; the answer lands on the
 * run's thread, where its user reads it. A run that cannot go on now (no live node) is left for a later round; a
 * disabled user's run is finished without going on.
 */
import { orphanedCheckpoints } from "../db/workflow-leases";
import { AGENT_RUN_KIND, takeOverAgentRun, type AgentRunState } from "./agent-runs";
import { workOn, type PmDeps } from "./agent-work";
import { nodeModel } from "./node-model";
import { PM_TIMEOUT_MS } from "./pm-completion";

/** Resumes every orphaned run there is now, one after another; resolves to how many it finished. */
export async function resumeOrphanedRuns(d: PmDeps): Promise<number> {
  const o = d.runs;
  let finished = 0;
  for (const row of await orphanedCheckpoints(d.chat.db, AGENT_RUN_KIND, new Date())) {
    const run = await takeOverAgentRun(d.chat.db, o, row.task_id, row.state as AgentRunState);
    if (!run) continue;
    if (!(await activeUser(d, run.state.user.id))) {
      // A disabled user's pending work is dropped, not done on their behalf.
      await run.finish(run.state.messages);
      continue;
    }
    d.chat.log.info("chat agent: resuming a run from its last checkpoint", { run_id: run.id, holder: o.holder });
    const never = new AbortController().signal;
    const model = await nodeModel(d.chat, never, AbortSignal.timeout(PM_TIMEOUT_MS));
    await workOn(d, run, model, { progress: () => {}, signal: never });
    finished++;
  }
  return finished;
}

async function activeUser(d: PmDeps, id: string): Promise<boolean> {
  const user = await d.chat.db.selectFrom("users").select("is_active").where("id", "=", id).executeTakeFirst();
  return user?.is_active === true;
}

/** Runs `resumeOrphanedRuns` every `everyMs` (never two rounds at once) until `signal` aborts. */
export function startAgentResumer(d: PmDeps, everyMs: number, signal: AbortSignal) {
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    await resumeOrphanedRuns(d)
      .catch((err) => d.chat.log.warn("chat agent: resuming runs failed", { error: (err as Error).message }))
      .finally(() => (busy = false));
  }, everyMs);
  signal.addEventListener("abort", () => clearInterval(timer));
}
