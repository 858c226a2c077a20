/**
 * An agent job (`sandbox.job_spec_json`) on the node: the spec re-validated, a model the job allows and the node
 * serves, a sandbox taken as any launched job's (warm when one fits), whose first shell serves tool calls
 * (tool-channel.ts) while the loop runs here; cancel and the job's timer end the loop and remove the sandbox.
 */
import { executionMode, SBA_PROTOCOL_VERSION, type JobSpec, type SbaResult } from "../../contracts/sba";
import type { RunJobRequest, RunJobResponse } from "../../contracts/worker-api";
import {
  containerName,
  holdJobDeadline,
  jobEnv,
  sandboxFor,
  underTimeout,
  type JobRun,
  type RunnerContext,
} from "../sandbox/job-sandbox";
import { truncateUtf8 } from "../sandbox/truncate-utf8";
import type { WarmSandboxes } from "../sandbox/warm-sandboxes";
import { newLoopState, runAgentLoop, type LoopState } from "./loop";
import { chooseModel, type ModelChat } from "./model-chat";
import { toolChannel, toolLoopLauncher, type ToolChannel } from "./tool-channel";
import { executeTool } from "./tools";
import { runDirectSteps } from "./direct-steps";

export type AgentDeps = {
  /** The node's model (its inference relay); without it agent jobs fail with a message. */
  chat?: ModelChat;
  /** The node's own allowed list when neither the request nor the spec names models. */
  defaultModels?: () => string[];
  /** Called once per step with one line (`step 3 tool run_command ["ls"] exit 0`). */
  onStep?: (jobId: string, line: string) => void;
  /** Called once a job's last step is known (its result follows): its step lines may be flushed. */
  onStepsEnd?: (jobId: string) => Promise<void>;
  maxSteps?: number;
  maxTokens?: number;
};

type Fields = Pick<RunJobResponse, "status" | "exit_code" | "stdout" | "stderr" | "truncated" | "sba_result">;
type Ending = "ended" | "timeout" | "canceled";

/** The models this job may ask: the request's list (the dispatcher's), else the spec's, else the node's default. */
const allowedModels = (job: RunJobRequest, spec: JobSpec, a: AgentDeps) =>
  job.inference?.allowed_models ?? spec.inference?.allowed_models ?? a.defaultModels?.() ?? [];

/** The job's fields once the run has ended: stdout is the final answer, sba_result the record. */
export function agentFields(
  job: RunJobRequest,
  state: LoopState,
  ending: Ending,
  maxOutputBytes: number,
  why?: string,
): Fields {
  const failure =
    ending === "canceled"
      ? { code: "canceled", message: "the job was canceled" }
      : ending === "timeout"
        ? { code: "timeout", message: "job exceeded max_runtime_seconds" }
        : (state.failure ?? (state.toolError ? { code: "step_failed", message: state.toolError } : undefined));
  const status = ending === "timeout" ? "timeout" : failure ? "failure" : "success";
  const sba: SbaResult = {
    protocol_version: SBA_PROTOCOL_VERSION,
    job_id: job.job_id,
    status,
    ...(state.finalAnswer !== undefined ? { final_answer: state.finalAnswer } : {}),
    inference_used: state.steps.some((s) => s.kind === "model_turn"),
    steps: state.steps,
    artifacts: [],
    failure_code: failure?.code ?? null,
    failure_message: failure?.message ?? null,
    todo: state.todo.items,
  };
  const out = truncateUtf8(state.finalAnswer ?? "", maxOutputBytes);
  const runStatus =
    ending === "canceled" ? "canceled" : ending === "timeout" ? "timeout" : failure ? "failed" : "completed";
  return {
    status: runStatus,
    exit_code: runStatus === "completed" ? 0 : runStatus === "failed" ? 1 : -1,
    stdout: out.text,
    stderr: why ?? (failure ? `${failure.code}: ${failure.message}` : ""),
    truncated: { stdout: out.truncated, stderr: false },
    sba_result: sba,
  };
}

/** Fails before any sandbox exists: no model to ask. */
async function modelFor(job: RunJobRequest, spec: JobSpec, a: AgentDeps, signal: AbortSignal) {
  if (executionMode(spec) === "direct_steps") return { model: "" };
  if (!a.chat) return { error: "inference is not available on this node" };
  const allowed = allowedModels(job, spec, a);
  if (allowed.length === 0) return { error: "no allowed model configured for this job" };
  const served = await a.chat.models(signal).catch((err: Error) => err);
  if (served instanceof Error) return { error: `inference is not available on this node: ${served.message}` };
  const model = chooseModel(allowed, served);
  return model ? { model } : { error: `no allowed model is served by this node (allowed: ${allowed.join(", ")})` };
}

export async function runAgentJob(
  ctx: RunnerContext,
  warm: WarmSandboxes | undefined,
  r: JobRun,
  spec: JobSpec,
  a: AgentDeps,
): Promise<Fields> {
  const { job, seconds, self } = r;
  const state = newLoopState();
  const abort = new AbortController();
  const end = (ending: Ending, why?: string) => agentFields(job, state, ending, ctx.maxOutputBytes, why);
  const deadline = Date.now() + seconds * 1000;
  self.kill = async () => abort.abort();
  const chosen = await underTimeout(self, seconds, modelFor(job, spec, a, abort.signal));
  if (self.canceled || self.timedOut) return end(self.canceled ? "canceled" : "timeout");
  if ("error" in chosen) {
    state.failure = { code: "step_failed", message: chosen.error! };
    return end("ended");
  }
  const sandbox = await sandboxFor(ctx, warm, r);
  if ("kind" in sandbox) {
    if (sandbox.kind === "canceled") return end("canceled");
    const why = sandbox.kind === "not-started" ? sandbox.why : "the sandbox could not be started";
    state.failure = { code: "step_failed", message: why };
    return { ...end("ended", why), exit_code: -1 };
  }
  // The sandbox goes first, then the model's request: a loop that ended first would close its channel, and the
  // sandbox's exit would race its removal (podman: "container state improper"), which is retried once. What still
  // fails is left to dispose() and the deadline keeper; a kill never rejects (the job's timer does not wait for it).
  self.kill = async () => {
    await sandbox
      .kill()
      .catch(() => sandbox.kill())
      .catch((err: Error) => ctx.log.warn("agent sandbox removal failed", { job_id: job.job_id, error: err.message }));
    abort.abort();
  };
  let channel: ToolChannel | undefined;
  try {
    if (self.canceled) return end("canceled");
    await holdJobDeadline(ctx, { key: sandbox.name, container: sandbox.id, pod: sandbox.pod }, seconds);
    if (self.warm) await sandbox.rename(containerName(job, ctx.nodeSlug)).catch(() => {});
    const io = await sandbox.serve(toolLoopLauncher({ env: jobEnv(job, sandbox.env), timeoutSeconds: seconds }));
    channel = toolChannel(io);
    const outputCap = Math.min(spec.constraints?.max_output_bytes ?? ctx.maxOutputBytes, ctx.maxOutputBytes);
    const onStep = a.onStep && ((line: string) => a.onStep!(job.job_id, line));
    const loop =
      executionMode(spec) === "direct_steps"
        ? runDirectSteps(
            spec,
            state,
            (call) => executeTool(call, { channel: channel!, todo: state.todo, cap: outputCap }),
            onStep,
          )
        : runAgentLoop(
            {
              chat: a.chat!,
              channel,
              spec,
              model: chosen.model!,
              deadline,
              outputCap,
              onStep,
              signal: abort.signal,
              maxSteps: a.maxSteps,
              maxTokens: a.maxTokens,
            },
            state,
          );
    // One deadline for the whole job: the time choosing the model and taking the sandbox took is not given again.
    const left = Math.max(0, (deadline - Date.now()) / 1000);
    const error = await underTimeout(self, left, loop).then(
      () => undefined,
      (err: Error) => err,
    );
    if (self.canceled) return end("canceled");
    if (self.timedOut) return end("timeout");
    if (error) {
      state.failure = { code: "step_failed", message: error.message };
      return end("ended");
    }
    return end("ended");
  } finally {
    channel?.close();
    ctx.track(sandbox.dispose());
    if (a.onStepsEnd) ctx.track(a.onStepsEnd(job.job_id));
  }
}
