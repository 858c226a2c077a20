/**
 * Agent jobs (decision 22; reference-agents 1.2 and 1.6): the job spec the orchestrator builds and the node
 * re-validates, and the `sba_result` the node's agent loop returns. Decoding is strict at every depth, like the
 * reference's: an unknown field fails with `invalid JSON or unknown field: json: unknown field "x"`; then the
 * reference's checks run in its order and the first failing one is the message.
 */
import * as v from "valibot";
import { LIMITS, List, Text } from "./storable";

/** The protocol this side speaks; a spec's major version must be this one's. */
export const SBA_PROTOCOL_VERSION = "1.0";
export const EXECUTION_MODES = ["agent_inference", "direct_steps"] as const;
/** The reference's stable failure codes, plus ours (documented in the README's agent section). */
export const SBA_FAILURE_CODES = [
  "schema_validation",
  "ext_net_required",
  "step_failed",
  "timeout",
  "constraint_violation",
  /** Ours: the model made the same failing tool call three times in a row. */
  "repeated_failing_call",
  /** Ours: the step limit or the token budget ran out before a final answer. */
  "budget_exhausted",
  /** Ours: the job was canceled mid-run. */
  "canceled",
] as const;
export const SBA_STATUSES = ["success", "failure", "timeout"] as const;
export const STEP_KINDS = ["model_turn", "tool_call"] as const;
/** Caps of a step record: its arguments (JSON text) and its output, in characters. */
export const STEP_ARGUMENTS_CAP = 4096;
export const STEP_OUTPUT_CAP = 16 * 1024;
export const TRUNCATED_SUFFIX = "\n...[truncated]";

const UNKNOWN_FIELD = "invalid JSON or unknown field";

/** A strict object: an unknown key fails naming the key the way the reference's Go decoder does. */
const Strict = <E extends v.ObjectEntries>(entries: E) =>
  v.pipe(
    v.custom<Record<string, unknown>>(
      (x) => typeof x === "object" && x !== null && !Array.isArray(x),
      `${UNKNOWN_FIELD}: expected an object`,
    ),
    v.strictObject(entries, (issue) => `${UNKNOWN_FIELD}: json: unknown field ${JSON.stringify(issue.input)}`),
  );

const Str = (field: string) => Text(LIMITS.text, `${UNKNOWN_FIELD}: ${field} must be a string`);
const Strs = (field: string) => List(Str(field));
const Int = (field: string) =>
  v.pipe(
    v.number(`${UNKNOWN_FIELD}: ${field} must be an integer`),
    v.integer(`${UNKNOWN_FIELD}: ${field} must be an integer`),
  );

export const JobSpecConstraints = Strict({
  max_runtime_seconds: v.optional(Int("constraints.max_runtime_seconds")),
  max_output_bytes: v.optional(Int("constraints.max_output_bytes")),
  ext_net_allowed: v.optional(v.boolean(`${UNKNOWN_FIELD}: constraints.ext_net_allowed must be a boolean`)),
});

export const JobSpecStep = Strict({ type: Str("steps[].type"), args: v.optional(v.unknown()) });

export const JobSpecInference = Strict({
  allowed_models: v.optional(Strs("inference.allowed_models")),
  source: v.optional(Str("inference.source")),
});

export const JobSpecContext = Strict({
  baseline_context: v.optional(Str("context.baseline_context")),
  project_context: v.optional(Str("context.project_context")),
  task_context: v.optional(Str("context.task_context")),
  additional_context: v.optional(Str("context.additional_context")),
  requirements: v.optional(Strs("context.requirements")),
  acceptance_criteria: v.optional(Strs("context.acceptance_criteria")),
  skill_ids: v.optional(Strs("context.skill_ids")),
  preferences: v.optional(v.record(v.string(), Str("context.preferences"))),
  skills: v.optional(v.unknown()),
  persona_title: v.optional(Str("context.persona_title")),
  persona_description: v.optional(Str("context.persona_description")),
});

/** `1.0` → 1; `null` when the part before the first `.` is not an integer. */
export const majorVersion = (version: string): number | null => {
  const major = version.split(".")[0] ?? "";
  return /^[+-]?\d+$/.test(major) ? Number(major) : null;
};

const versionIssue = (version: string | undefined): string | null => {
  if (!version) return "protocol_version: required";
  const major = majorVersion(version);
  if (major === null) return "protocol_version: invalid version format";
  return major === 1 ? null : `protocol_version: unsupported major version ${major} (supported: 1)`;
};

type Decoded = {
  protocol_version?: string;
  job_id?: string;
  task_id?: string;
  execution_mode?: string;
  constraints?: { max_runtime_seconds?: number; max_output_bytes?: number };
};

/** The reference's checks, in its order; the first that fails is the message. */
const specIssue = (spec: Decoded): string | null =>
  versionIssue(spec.protocol_version) ??
  (!spec.job_id ? "job_id: required" : null) ??
  (!spec.task_id ? "task_id: required" : null) ??
  (spec.execution_mode !== undefined && !(EXECUTION_MODES as readonly string[]).includes(spec.execution_mode)
    ? `execution_mode: must be one of: ${EXECUTION_MODES.join(", ")}`
    : null) ??
  (!((spec.constraints?.max_runtime_seconds ?? 0) > 0) ? "constraints.max_runtime_seconds: must be positive" : null) ??
  (!((spec.constraints?.max_output_bytes ?? 0) > 0) ? "constraints.max_output_bytes: must be positive" : null);

/** The job spec (`job_spec_json`): strict decoding first, then the reference's checks. */
export const JobSpec = v.pipe(
  Strict({
    protocol_version: v.optional(Str("protocol_version")),
    job_id: v.optional(Str("job_id")),
    task_id: v.optional(Str("task_id")),
    execution_mode: v.optional(Str("execution_mode")),
    constraints: v.optional(JobSpecConstraints),
    steps: v.optional(List(JobSpecStep)),
    inference: v.optional(JobSpecInference),
    context: v.optional(JobSpecContext),
    persona: v.optional(
      Strict({ title: v.optional(Str("persona.title")), description: v.optional(Str("persona.description")) }),
    ),
    persona_id: v.optional(Str("persona_id")),
    deadline: v.optional(Str("deadline")),
    remaining_seconds: v.optional(Int("remaining_seconds")),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    const message = dataset.typed ? specIssue(dataset.value) : null;
    if (message) addIssue({ message });
  }),
);
export type JobSpec = v.InferOutput<typeof JobSpec>;

/** The spec's effective mode: an explicit one wins; otherwise suggested steps mean direct steps. */
export const executionMode = (spec: JobSpec): (typeof EXECUTION_MODES)[number] =>
  (spec.execution_mode as (typeof EXECUTION_MODES)[number] | undefined) ??
  (spec.steps?.length ? "direct_steps" : "agent_inference");

export type SpecParse = { ok: true; spec: JobSpec } | { ok: false; error: string };

/** Decodes and validates `job_spec_json` text; the error is the reference's message. */
export function parseJobSpec(text: string): SpecParse {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `${UNKNOWN_FIELD}: ${(e as Error).message}` };
  }
  const parsed = v.safeParse(JobSpec, doc, { abortEarly: true });
  return parsed.success ? { ok: true, spec: parsed.output } : { ok: false, error: parsed.issues[0].message };
}

/** Text cut to `max` characters with the reference's suffix when longer. */
export const capText = (text: string, max: number): { text: string; truncated: boolean } =>
  text.length > max ? { text: text.slice(0, max) + TRUNCATED_SUFFIX, truncated: true } : { text, truncated: false };

const Capped = (max: number) => v.pipe(v.string(), v.maxLength(max + TRUNCATED_SUFFIX.length));

/** One step: the reference's `{index, type, status, exit_code?, output?, error?}` plus our record fields. */
export const SbaStep = v.object({
  index: v.number(),
  /** The tool name for a tool call, `model` for a model turn. */
  type: v.string(),
  status: v.string(),
  exit_code: v.optional(v.number()),
  output: v.optional(Capped(STEP_OUTPUT_CAP)),
  error: v.optional(v.string()),
  kind: v.optional(v.picklist(STEP_KINDS)),
  tool: v.optional(v.string()),
  /** The call's arguments as JSON text, capped. */
  arguments: v.optional(Capped(STEP_ARGUMENTS_CAP)),
  started_at: v.optional(v.string()),
  duration_ms: v.optional(v.number()),
  model: v.optional(v.string()),
  prompt_tokens: v.optional(v.number()),
  completion_tokens: v.optional(v.number()),
  /** The tool's output went over its cap (kept, cut, and marked with TRUNCATED_SUFFIX). */
  truncated: v.optional(v.boolean()),
});
export type SbaStep = v.InferOutput<typeof SbaStep>;

export const TodoItem = v.object({ id: v.optional(v.number()), title: v.string(), done: v.optional(v.boolean()) });
export type TodoItem = v.InferOutput<typeof TodoItem>;

export const SbaArtifact = v.object({
  path: v.optional(v.string()),
  ref: v.optional(v.string()),
  /** Ours, additive: what the node stored of it. */
  size_bytes: v.optional(v.number()),
  sha256: v.optional(v.string()),
});

/** A list the reference may send as `null`; always an array once read. */
const AlwaysArray = <T extends v.GenericSchema>(item: T) => v.nullish(v.array(item), () => []);

/** `sba_result` (reference 1.6): `steps` and `artifacts` are always arrays; failure fields explicit nulls. */
export const SbaResult = v.object({
  protocol_version: v.string(),
  job_id: v.string(),
  status: v.picklist(SBA_STATUSES),
  final_answer: v.optional(v.string()),
  inference_used: v.optional(v.boolean()),
  steps: AlwaysArray(SbaStep),
  artifacts: AlwaysArray(SbaArtifact),
  failure_code: v.nullish(v.string()),
  failure_message: v.nullish(v.string()),
  todo: v.optional(v.array(TodoItem)),
});
export type SbaResult = v.InferOutput<typeof SbaResult>;
export type SbaFailureCode = (typeof SBA_FAILURE_CODES)[number];
