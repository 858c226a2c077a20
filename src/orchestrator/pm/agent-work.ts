/**
 * One run of the chat agent's loop, from wherever its run stands (its start, or the last checkpoint of a run taken
 * over): tools act as the run's user, each step is checkpointed, and the answer is stored on the run's thread
 * before the run is finished. A run that fails is finished too (its client was told); only a run whose orchestrator
 * died stays open for another to take over.
 */
import { PM_MODEL } from "../../contracts/chat-agent";
import type { ModelList } from "../../contracts/openai";
import { appendMessage } from "../db/chat-threads";
import type { ChatContext } from "../gateway/chat-completion";
import type { TaskDeps } from "../gateway/tasks";
import { withAgentModel } from "./agent-model";
import { runAgentLoop, type AgentMessage } from "./agent-loop";
import type { AgentRun, AgentRunOptions } from "./agent-runs";
import type { NodeModel } from "./node-model";
import { recordedCall } from "./recorded-call";

/** Model turns one answer may take. */
export const MAX_AGENT_TURNS = 8;

/** What the chat agent runs with: the chat routes' context, the task routes' deps, its runs' lease settings. */
export type PmDeps = { chat: ChatContext; tasks: TaskDeps; runs: AgentRunOptions };

export const progressLine = (name: string, args: unknown) => `> ${name} ${JSON.stringify(args ?? {})}\n\n`;

export async function workOn(
  d: PmDeps,
  run: AgentRun,
  model: NodeModel,
  o: { progress: (text: string) => void; signal: AbortSignal },
): Promise<string> {
  const s = run.state;
  const tools = {
    tasks: d.tasks,
    user: s.user,
    projectId: s.project_id,
    models: async (): Promise<ModelList> => withAgentModel(await d.chat.nodes.models()),
    signal: o.signal,
    threadId: s.thread_id,
    log: d.chat.log,
  };
  let done: AgentMessage[] = s.messages;
  try {
    const answer = await runAgentLoop(s.messages, {
      ask: model.ask,
      call: (name, args) => recordedCall(tools, name, args),
      onToolCall: (name, args) => o.progress(progressLine(name, args)),
      onStep: async (messages) => {
        done = messages;
        await run.step(messages);
      },
      maxTurns: MAX_AGENT_TURNS,
    });
    await appendMessage(d.chat.db, {
      threadId: s.thread_id,
      role: "assistant",
      content: answer,
      metadata: { model_id: PM_MODEL },
    });
    done = [...done, { role: "assistant", content: answer }];
    return answer;
  } finally {
    await run.finish(done);
  }
}
