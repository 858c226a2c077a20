/**
 * The agent loop (decision 22): each turn asks the model with the tools offered; each tool call runs in the job's
 * sandbox and goes back as a `tool` message; a reply with no tool call is the final answer. Budgets: steps, tokens,
 * and the same failing call three times. Every step is recorded as it happens and reported in one line.
 */
import {
  capText,
  STEP_ARGUMENTS_CAP,
  STEP_OUTPUT_CAP,
  TRUNCATED_SUFFIX,
  type JobSpec,
  type SbaFailureCode,
  type SbaStep,
} from "../../contracts/sba";
import { rfc3339 } from "../../lib/rfc3339";
import type { ChatMessage, ModelChat } from "./model-chat";
import { goalOf, jobContext, runtimeNote } from "./prompt";
import type { ToolChannel } from "./tool-channel";
import { createTodoList, executeTool, TOOL_DEFINITIONS, type ToolCall, type ToolOutcome } from "./tools";

export const DEFAULT_MAX_STEPS = 30;
export const DEFAULT_MAX_TOKENS = 200_000;
/** The same failing call (tool and arguments) this many times stops the run. */
export const REPEATED_FAILURES = 3;

export type LoopDeps = {
  chat: ModelChat;
  channel: ToolChannel;
  spec: JobSpec;
  model: string;
  /** When the job's time is up (ms since the epoch). */
  deadline: number;
  maxSteps?: number;
  maxTokens?: number;
  /** Output bytes kept per tool call. */
  outputCap: number;
  onStep?: (line: string) => void;
  signal?: AbortSignal;
  now?: () => Date;
};

/** What the loop has done so far: complete at its end, and what a timeout or cancel reports. */
export type LoopState = {
  steps: SbaStep[];
  todo: ReturnType<typeof createTodoList>;
  tokens: number;
  finalAnswer?: string;
  failure?: { code: SbaFailureCode; message: string };
  /** The first tool error: the run is a failure (`step_failed`) even if the agent recovers, as the reference's. */
  toolError?: string;
};

export const newLoopState = (): LoopState => ({ steps: [], todo: createTodoList(), tokens: 0 });

/** Milliseconds since `t0` (performance.now), to 0.01 ms: a tool call in a served sandbox takes about one. */
const elapsed = (t0: number) => Math.round((performance.now() - t0) * 100) / 100;

const capArgs = (args: unknown) => capText(JSON.stringify(args ?? {}) ?? "", STEP_ARGUMENTS_CAP).text;

function observation(o: ToolOutcome): string {
  const text = o.truncated ? o.output + TRUNCATED_SUFFIX : o.output;
  if (o.error) return `error: ${o.error}${text ? `\n${text}` : ""}`;
  return o.exitCode === 0 ? text : `${text}${text && !text.endsWith("\n") ? "\n" : ""}(exit code ${o.exitCode})`;
}

function record(d: LoopDeps, state: LoopState, step: Omit<SbaStep, "index">, line: string): void {
  const index = state.steps.length + 1;
  state.steps.push({ index, ...step });
  d.onStep?.(`step ${index} ${line}`);
}

async function modelTurn(d: LoopDeps, state: LoopState, history: ChatMessage[]) {
  const now = d.now ?? (() => new Date());
  const started = now();
  const note = runtimeNote({
    secondsLeft: (d.deadline - started.getTime()) / 1000,
    stepsLeft: (d.maxSteps ?? DEFAULT_MAX_STEPS) - state.steps.length,
    todo: state.todo.items,
  });
  const messages: ChatMessage[] = [
    { role: "system", content: `${jobContext(d.spec)}\n\n${note}` },
    { role: "user", content: goalOf(d.spec) },
    ...history,
  ];
  const t0 = performance.now();
  const reply = await d.chat.chat({ model: d.model, messages, tools: TOOL_DEFINITIONS }, d.signal);
  state.tokens += reply.promptTokens + reply.completionTokens;
  const calls = reply.message.tool_calls;
  record(
    d,
    state,
    {
      type: "model",
      status: "ok",
      kind: "model_turn",
      model: d.model,
      prompt_tokens: reply.promptTokens,
      completion_tokens: reply.completionTokens,
      output: capText(reply.message.content, STEP_OUTPUT_CAP).text,
      started_at: rfc3339(started),
      duration_ms: elapsed(t0),
    },
    `model ${d.model} tokens ${reply.promptTokens}+${reply.completionTokens} ${calls.length ? `tool calls ${calls.length}` : "final answer"}`,
  );
  history.push({
    role: "assistant",
    content: reply.message.content,
    ...(calls.length ? { tool_calls: calls.map((c) => ({ function: c })) } : {}),
  });
  return reply;
}

async function toolStep(d: LoopDeps, state: LoopState, call: ToolCall): Promise<ToolOutcome> {
  const now = d.now ?? (() => new Date());
  const started = now();
  const t0 = performance.now();
  const outcome = await executeTool(call, { channel: d.channel, todo: state.todo, cap: d.outputCap });
  const args = capArgs(call.arguments);
  const failed = !!outcome.error || outcome.exitCode !== 0;
  const end = outcome.error ? `error: ${outcome.error}` : `exit ${outcome.exitCode}`;
  record(
    d,
    state,
    {
      type: call.name,
      status: outcome.error ? "error" : failed ? "failed" : "ok",
      kind: "tool_call",
      tool: call.name,
      arguments: args,
      exit_code: outcome.exitCode,
      output: capText(observation(outcome), STEP_OUTPUT_CAP).text,
      ...(outcome.error ? { error: outcome.error } : {}),
      ...(outcome.truncated ? { truncated: true } : {}),
      started_at: rfc3339(started),
      duration_ms: elapsed(t0),
    },
    `tool ${call.name} ${capText(args, 200).text} ${end}`,
  );
  if (outcome.error) state.toolError ??= outcome.error;
  return outcome;
}

const stop = (state: LoopState, code: SbaFailureCode, message: string) => {
  state.failure = { code, message };
};

/** Runs the loop to its end; throws only when the model or the sandbox cannot be reached (timeout, cancel). */
export async function runAgentLoop(d: LoopDeps, state: LoopState): Promise<void> {
  const maxSteps = d.maxSteps ?? DEFAULT_MAX_STEPS;
  const maxTokens = d.maxTokens ?? DEFAULT_MAX_TOKENS;
  const history: ChatMessage[] = [];
  const failures = new Map<string, number>();
  for (;;) {
    if (state.steps.length >= maxSteps)
      return stop(state, "budget_exhausted", `step limit reached (${maxSteps} steps)`);
    const reply = await modelTurn(d, state, history);
    if (reply.message.tool_calls.length === 0) {
      state.finalAnswer = reply.message.content;
      return;
    }
    if (state.tokens > maxTokens)
      return stop(state, "budget_exhausted", `token budget exhausted (${state.tokens} of ${maxTokens} tokens)`);
    for (const call of reply.message.tool_calls) {
      if (state.steps.length >= maxSteps)
        return stop(state, "budget_exhausted", `step limit reached (${maxSteps} steps)`);
      const outcome = await toolStep(d, state, call);
      history.push({ role: "tool", content: observation(outcome), tool_name: call.name });
      if (!outcome.error && outcome.exitCode === 0) continue;
      const key = `${call.name} ${JSON.stringify(call.arguments ?? {})}`;
      const count = (failures.get(key) ?? 0) + 1;
      failures.set(key, count);
      if (count >= REPEATED_FAILURES)
        return stop(
          state,
          "repeated_failing_call",
          `the same failing call ${REPEATED_FAILURES} times: ${capText(key, 200).text}`,
        );
    }
  }
}
