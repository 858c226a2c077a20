/**
 * The chat agent's multi-step work as a durable run (decision 26): each run holds a workflow lease (its id is the
 * lease's task key) and checkpoints the conversation after every step in Postgres. A run whose orchestrator dies
 * keeps its last checkpoint; once its lease expires, any orchestrator takes it over and goes on from there.
 */
import type { Db } from "../db/connect";
import { releaseLease, renewLease, saveCheckpoint, takeLease } from "../db/workflow-leases";
import type { AgentMessage } from "./agent-loop";

export const AGENT_RUN_KIND = "chat_agent";

/** What a run needs to go on without the request that started it. */
export type AgentRunState = {
  kind: typeof AGENT_RUN_KIND;
  user: { id: string; handle: string; sessionId: string };
  project_id: string | null;
  thread_id: string;
  messages: AgentMessage[];
  done?: true;
};

export type AgentRunOptions = {
  /** This orchestrator's holder id. */
  holder: string;
  /** How long a lease lasts without a step (renewed at each): the time another waits before taking over. */
  leaseMs: number;
};

export type AgentRun = {
  id: string;
  state: AgentRunState;
  step(messages: AgentMessage[]): Promise<void>;
  finish(messages: AgentMessage[]): Promise<void>;
};

function run(db: Db, o: AgentRunOptions, id: string, leaseId: string, state: AgentRunState): AgentRun {
  let steps = 0;
  return {
    id,
    state,
    async step(messages) {
      await saveCheckpoint(db, id, { ...state, messages }, `step-${++steps}`);
      await renewLease(db, id, leaseId, new Date(Date.now() + o.leaseMs));
    },
    async finish(messages) {
      await saveCheckpoint(db, id, { ...state, messages, done: true }, "done");
      await releaseLease(db, id, leaseId);
    },
  };
}

const lease = (db: Db, o: AgentRunOptions, id: string) =>
  takeLease(db, { taskId: id, holderId: o.holder, ttlSeconds: o.leaseMs / 1000, now: new Date() });

/** A new run, leased to this orchestrator and checkpointed at its start. */
export async function beginAgentRun(db: Db, o: AgentRunOptions, state: AgentRunState): Promise<AgentRun> {
  const id = crypto.randomUUID();
  const taken = await lease(db, o, id);
  if (taken.status === "conflict") throw new Error("a new agent run's lease was taken");
  await saveCheckpoint(db, id, state, "start");
  return run(db, o, id, taken.leaseId, state);
}

/** Takes over an orphaned run; undefined when another orchestrator was quicker. */
export async function takeOverAgentRun(
  db: Db,
  o: AgentRunOptions,
  id: string,
  state: AgentRunState,
): Promise<AgentRun | undefined> {
  const taken = await lease(db, o, id);
  return taken.status === "conflict" ? undefined : run(db, o, id, taken.leaseId, state);
}
