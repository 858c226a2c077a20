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
import { artifactLines, collectArtifacts, jobFilesOf, type ArtifactReport } from "../sandbox/job-files";
import type { Sandbox } from "../sandbox/sandbox";
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

type Fields = Pick<
  RunJobResponse,
  "status" | "exit_code" | "stdout" | "stderr" | "truncated" | "sba_result" | "artifacts" | "artifacts_omitted"
>;
type Ending = "ended" | "timeout" | "canceled";

/** The models this job may ask: the request's list (the dispatcher's), else the spec's, else the node's default. */
const allowedModels = (job: RunJobRequest, spec: JobSpec, a: AgentDeps) =>
  job.inference?.allowed_models ?? spec.inference?.allowed_models ?? a.defaultModels?.() ?? [];

/** What the run left besides its loop state: its artifacts, and whether its egress was refused. */
export type RunLeft = { files?: ArtifactReport; refused?: boolean };

const EXT_NET_REQUIRED = "network required but denied: a connection to a host the task does not allow was refused";

/**
 * Why a run that ended failed: after a refused connection, a failure or an answer given right after a failed tool
 * (the model gave up) is `ext_net_required` (reference §1.6: network required but denied).
 */
function failureOf(state: LoopState, ending: Ending, left: RunLeft) {
  if (ending === "canceled") return { code: "canceled", message: "the job was canceled" };
  if (ending === "timeout") return { code: "timeout", message: "job exceeded max_runtime_seconds" };
  const failure = state.failure ?? (state.toolError ? { code: "step_failed", message: state.toolError } : undefined);
  const lastTool = state.steps.findLast((s) => s.kind === "tool_call");
  const gaveUp = failure || (lastTool && lastTool.status !== "ok");
  return left.refused && gaveUp ? { code: "ext_net_required", message: EXT_NET_REQUIRED } : failure;
}

/** The job's fields once the run has ended: stdout is the final answer, sba_result the record. */
export function agentFields(
  job: RunJobRequest,
  state: LoopState,
  ending: Ending,
  maxOutputBytes: number,
  o: { why?: string; left?: RunLeft } = {},
): Fields {
  const left = o.left ?? {};
  const why = o.why;
  const failure = failureOf(state, ending, left);
  const files = left.files;
  const status = ending === "timeout" ? "timeout" : failure ? "failure" : "success";
  const sba: SbaResult = {
    protocol_version: SBA_PROTOCOL_VERSION,
    job_id: job.job_id,
    status,
    ...(state.finalAnswer !== undefined ? { final_answer: state.finalAnswer } : {}),
    inference_used: state.steps.some((s) => s.kind === "model_turn"),
    steps: state.steps,
    artifacts: (files?.artifacts ?? []).map((f) => ({
      path: `artifacts/${f.name}`,
      size_bytes: f.size_bytes,
      sha256: f.sha256,
    })),
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
    ...(files ? { artifacts: files.artifacts, artifacts_omitted: files.omitted } : {}),
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

/** Once the loop has ended: what the sandbox wrote of its artifacts (its loop exits on the closed channel). */
async function ranOut(sandbox: Sandbox, left: RunLeft, collected?: Promise<ArtifactReport>) {
  left.files = await collected;
  left.refused = sandbox.egress?.refused();
}

/** The sandbox's tool loop, the job's attachments placed before it; its artifacts collected once it ends. */
async function serveTools(ctx: RunnerContext, sandbox: Sandbox, job: RunJobRequest, seconds: number) {
  const files = await jobFilesOf(ctx, sandbox.ioDir, job);
  const sink = files.artifacts;
  const launcher = toolLoopLauncher({
    env: jobEnv(job, sandbox.env),
    timeoutSeconds: seconds,
    before: files.before,
    after: sink && artifactLines(sink.capBytes),
  });
  const io = await sandbox.serve(launcher);
  return { io, collected: sink && collectArtifacts(io.artifacts, sink) };
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
  const ran: RunLeft = {};
  const end = (ending: Ending, why?: string) => agentFields(job, state, ending, ctx.maxOutputBytes, { why, left: ran });
  const deadline = Date.now() + seconds * 1000;
  const secondsLeft = () => Math.max(0, (deadline - Date.now()) / 1000);
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
  self.egress = sandbox.egress;
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
    const { io, collected } = await serveTools(ctx, sandbox, job, seconds);
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
    const error = await underTimeout(self, secondsLeft(), loop).then(
      () => undefined,
      (err: Error) => err,
    );
    if (error) state.failure = { code: "step_failed", message: error.message };
    channel.close();
    // A loop that failed may leave a tool running: its artifacts wait for it, under the job's deadline still.
    if (!self.canceled && !self.timedOut) await underTimeout(self, secondsLeft(), ranOut(sandbox, ran, collected));
    if (self.canceled) return end("canceled");
    if (self.timedOut) return end("timeout");
    return end("ended");
  } finally {
    channel?.close();
    ctx.track(sandbox.dispose());
    if (a.onStepsEnd) ctx.track(a.onStepsEnd(job.job_id));
  }
}
