/**
 * Agent jobs (`use_sba`, decision 22; reference-agents 1.1, 1.2): the reference's job spec the orchestrator builds
 * for a task, validated with the schema the node validates it with again, and the sandbox spec that carries it.
 */
import { parseJobSpec, SBA_PROTOCOL_VERSION, type JobSpec } from "../../contracts/sba";
import type { SandboxSpec } from "../../contracts/worker-api";

/** The agent's time budget when the task names none (the reference's). */
export const AGENT_DEFAULT_RUNTIME_SECONDS = 300;
/**
 * The cap on what the agent's run may output. Not the reference's 1024 (reference-agents §0.4: any larger tool
 * output aborts the run there): the node's cap on one job output, 64 KiB.
 */
export const AGENT_MAX_OUTPUT_BYTES = 64 * 1024;
/** The reference's detail when no model may run the agent. */
export const NO_AGENT_MODEL = "SBA inference readiness failed: no allowed model configured";

export type AgentJobInput = {
  jobId: string;
  taskId: string;
  /** What the agent is to do: the task's prompt, task text or task file. */
  goal: string;
  allowedModels: string[];
  maxRuntimeSeconds?: number;
  requirements?: string[];
  acceptanceCriteria?: string[];
  /** Skills the agent is given (reference-agents 1.2 `context.skills`, their ids in `context.skill_ids`). */
  skills?: { id: string; name: string; content: string }[];
  /** The task allows hosts (its job is restricted): the agent may use the network through its proxy. */
  extNetAllowed?: boolean;
};

/** The job spec (`job_spec_json`) as JSON text; throws when what was built does not validate (a bug here). */
export function agentJobSpec(input: AgentJobInput): string {
  const spec: JobSpec = {
    protocol_version: SBA_PROTOCOL_VERSION,
    job_id: input.jobId,
    task_id: input.taskId,
    execution_mode: "agent_inference",
    constraints: {
      max_runtime_seconds: input.maxRuntimeSeconds ?? AGENT_DEFAULT_RUNTIME_SECONDS,
      max_output_bytes: AGENT_MAX_OUTPUT_BYTES,
      ext_net_allowed: input.extNetAllowed ?? false,
    },
    inference: { allowed_models: input.allowedModels, source: "orchestrator" },
    context: {
      task_context: input.goal,
      ...(input.requirements?.length ? { requirements: input.requirements } : {}),
      ...(input.acceptanceCriteria?.length ? { acceptance_criteria: input.acceptanceCriteria } : {}),
      ...(input.skills?.length ? { skills: input.skills, skill_ids: input.skills.map((s) => s.id) } : {}),
    },
  };
  const text = JSON.stringify(spec);
  const parsed = parseJobSpec(text);
  if (!parsed.ok) throw new Error(`built an invalid agent job spec: ${parsed.error}`);
  return text;
}

/** The sandbox spec of an agent job: the spec as text, the job's deadline, the proxy only when asked for. */
export function agentJobPayload(input: AgentJobInput & { image: string; useInference?: boolean }): SandboxSpec {
  return {
    image: input.image,
    job_spec_json: agentJobSpec(input),
    timeout_seconds: input.maxRuntimeSeconds ?? AGENT_DEFAULT_RUNTIME_SECONDS,
    ...(input.useInference ? { use_inference: true } : {}),
  };
}

/** The models an agent job's spec allows (none when the spec is not one or names none). */
export function agentAllowedModels(spec: SandboxSpec): string[] {
  if (spec.job_spec_json === undefined) return [];
  const parsed = parseJobSpec(spec.job_spec_json);
  return parsed.ok ? (parsed.spec.inference?.allowed_models ?? []) : [];
}
