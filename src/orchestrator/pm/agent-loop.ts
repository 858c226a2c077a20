/**
 * The chat agent's tool-calling loop: ask the model with the tools declared; each tool call it answers is run and
 * its result goes back as a `tool` message; an answer without tool calls is the final one. Bounded in turns.
 */
import type { OllamaToolCall } from "../../contracts/chat-agent";

export type AgentMessage = { role: string; content: string; tool_calls?: OllamaToolCall[]; tool_name?: string };
export type AgentAnswer = { content: string; toolCalls: OllamaToolCall[] };

export type AgentLoopDeps = {
  ask: (messages: AgentMessage[]) => Promise<AgentAnswer>;
  /** Runs one call; resolves to what the model is told (a result or a refusal, as text). */
  call: (name: string, args: unknown) => Promise<string>;
  /** Told before each call runs: streamed to the user as progress. */
  onToolCall: (name: string, args: unknown) => void;
  /** Told after each step (a model turn and its calls): the conversation so far, to checkpoint. */
  onStep?: (messages: AgentMessage[]) => Promise<void>;
  maxTurns: number;
};

export const TURNS_EXHAUSTED = "I stopped before finishing: the work took more steps than one answer may take.";

export async function runAgentLoop(start: AgentMessage[], d: AgentLoopDeps): Promise<string> {
  const messages = [...start];
  for (let turn = 0; turn < d.maxTurns; turn++) {
    const answer = await d.ask(messages);
    if (!answer.toolCalls.length) return answer.content;
    messages.push({ role: "assistant", content: answer.content, tool_calls: answer.toolCalls });
    for (const { function: f } of answer.toolCalls) {
      d.onToolCall(f.name, f.arguments);
      messages.push({ role: "tool", tool_name: f.name, content: await d.call(f.name, f.arguments) });
    }
    await d.onStep?.(messages);
  }
  return TURNS_EXHAUSTED;
}
