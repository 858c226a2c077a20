/**
 * Direct mode (`execution_mode: direct_steps`, or suggested steps with no mode): the spec's steps run in order as
 * tool calls (`type` the tool, `args` its arguments) with no model; the first failing one ends the run.
 */
import { capText, STEP_ARGUMENTS_CAP, STEP_OUTPUT_CAP, type JobSpec } from "../../contracts/sba";
import { rfc3339 } from "../../lib/rfc3339";
import type { LoopState } from "./loop";
import type { ToolCall, ToolOutcome } from "./tools";

export async function runDirectSteps(
  spec: JobSpec,
  state: LoopState,
  execute: (call: ToolCall) => Promise<ToolOutcome>,
  onStep?: (line: string) => void,
): Promise<void> {
  for (const step of spec.steps ?? []) {
    const started = new Date();
    const o = await execute({ name: step.type, arguments: step.args ?? {} });
    const index = state.steps.length + 1;
    const error = o.error?.startsWith("unknown tool")
      ? `unsupported step type for direct execution: ${step.type}`
      : o.error;
    const failed = !!error || o.exitCode !== 0;
    state.steps.push({
      index,
      type: step.type,
      status: failed ? "failed" : "ok",
      kind: "tool_call",
      tool: step.type,
      arguments: capText(JSON.stringify(step.args ?? {}), STEP_ARGUMENTS_CAP).text,
      exit_code: o.exitCode,
      output: capText(o.output, STEP_OUTPUT_CAP).text,
      ...(error ? { error } : {}),
      ...(o.truncated ? { truncated: true } : {}),
      started_at: rfc3339(started),
      duration_ms: Date.now() - started.getTime(),
    });
    onStep?.(`step ${index} tool ${step.type} ${error ? `error: ${error}` : `exit ${o.exitCode}`}`);
    if (failed) {
      state.failure = { code: "step_failed", message: error ?? `step ${index} (${step.type}) exited ${o.exitCode}` };
      return;
    }
  }
  state.finalAnswer = state.steps.at(-1)?.output ?? "";
}
