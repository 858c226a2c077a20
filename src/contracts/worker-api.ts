/** Worker API (node :12090) payloads, shared by the worker and the orchestrator's dispatcher (reference-contracts 1.4). */
import * as v from "valibot";
import { SbaResult } from "./sba";
import { EgressAttempt, MAX_EGRESS_RECORDS, SandboxEgress } from "./egress";
import { LIMITS, List, Text, TextMap } from "./storable";
import { OmittedArtifact, TaskFileView } from "./task-files";

export const NETWORK_POLICIES = ["none", "restricted"] as const;
/** The 400 detail for `sandbox.egress` on a job that is not restricted. */
export const EGRESS_NEEDS_RESTRICTED = 'sandbox.egress needs network_policy "restricted"';
/** A job's output streams (RunJobResponse, the user API's logs, the telemetry log query). */
export const OUTPUT_STREAMS = ["stdout", "stderr"] as const;

/** What a job runs: the `sandbox` object of RunJobRequest, also stored as the job payload by the orchestrator. */
export const SandboxSpec = v.pipe(
  v.object({
    image: v.optional(Text(LIMITS.text)),
    command: v.optional(List(Text(LIMITS.body))),
    /** An agent job (`use_sba`): the reference's SBA job spec as JSON text (contracts/sba.ts `parseJobSpec`). */
    job_spec_json: v.optional(Text(LIMITS.body)),
    env: v.optional(TextMap()),
    timeout_seconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
    network_policy: v.optional(v.picklist(NETWORK_POLICIES, "network_policy must be none or restricted")),
    use_inference: v.optional(v.boolean()),
    /** Restricted jobs: the hosts their sandbox's proxy may reach (decision 28); refused on any other job. */
    egress: v.optional(SandboxEgress),
  }),
  v.check(
    (s) => s.job_spec_json !== undefined || (s.command?.length ?? 0) > 0,
    "sandbox.command is required when job_spec_json is not set",
  ),
);

/** An Ollama model name (`name`, `name:tag`, `host:port/ns/name:tag`, `name@sha256:…`); never a comma or a space. */
export const MODEL_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/;
/** How many models one job may be allowed. */
export const MAX_ALLOWED_MODELS = 32;
/** The variable that names a prompt job's model (containers/sandbox/cynode-prompt reads it). */
export const PROMPT_MODEL_ENV = "CYNODE_INFERENCE_MODEL";

/**
 * What a `use_inference` job may ask of the model (decision 24). `allowed_models` absent: the node's own default list
 * (`inference.default_models` in the node config); `name` and `name:latest` are one model.
 */
export const JobInference = v.object({
  allowed_models: v.optional(
    v.pipe(
      List(
        v.pipe(Text(LIMITS.name), v.regex(MODEL_NAME_RE, "inference.allowed_models: not a model name")),
        MAX_ALLOWED_MODELS,
      ),
      v.minLength(1, "inference.allowed_models must name at least one model"),
    ),
  ),
});

export const RunJobRequest = v.object({
  version: v.literal(1, "unsupported version"),
  task_id: v.pipe(Text(LIMITS.name), v.nonEmpty("task_id and job_id are required")),
  job_id: v.pipe(Text(LIMITS.name), v.nonEmpty("task_id and job_id are required")),
  sandbox: SandboxSpec,
  inference: v.optional(JobInference),
  /** The task's uploaded attachments (decision 23): the node fetches each from the control-plane into /workspace. */
  attachments: v.optional(v.pipe(v.array(v.omit(TaskFileView, ["content_type"])), v.maxLength(256))),
});

export const RUN_STATUSES = ["completed", "failed", "timeout", "canceled"] as const;

export const RunJobResponse = v.object({
  version: v.literal(1),
  task_id: v.string(),
  job_id: v.string(),
  status: v.picklist(RUN_STATUSES),
  exit_code: v.number(),
  stdout: v.string(),
  stderr: v.string(),
  started_at: v.string(),
  ended_at: v.string(),
  truncated: v.object({ stdout: v.boolean(), stderr: v.boolean() }),
  /** Agent jobs only: the loop's record (stdout is its final answer). */
  sba_result: v.optional(SbaResult),
  /** Restricted jobs: every connection their sandbox asked for, allowed or refused. */
  egress: v.optional(v.pipe(v.array(EgressAttempt), v.maxLength(MAX_EGRESS_RECORDS))),
  /** What the job left in /job/artifacts and the node stored with its task (decision 23). */
  artifacts: v.optional(v.array(TaskFileView)),
  /** What it left that was not collected (past the cap, unsafe name, not a regular file); the job is not failed. */
  artifacts_omitted: v.optional(v.array(OmittedArtifact)),
});

export const CancelJobResponse = v.object({ job_id: v.string(), canceled: v.boolean() });

export type SandboxSpec = v.InferOutput<typeof SandboxSpec>;
export type RunJobRequest = v.InferOutput<typeof RunJobRequest>;
export type JobInference = v.InferOutput<typeof JobInference>;
export type RunJobResponse = v.InferOutput<typeof RunJobResponse>;
export type CancelJobResponse = v.InferOutput<typeof CancelJobResponse>;
