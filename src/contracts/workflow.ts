/** The workflow lease routes of the control-plane (reference-agents 4): a holder's lease on a task's run. */
import * as v from "valibot";

/** Every workflow request names its task; the others add to this. */
export const WorkflowTaskRequest = v.looseObject({ task_id: v.string() });

export const WorkflowStartRequest = v.looseObject({
  ...WorkflowTaskRequest.entries,
  holder_id: v.string(),
  idempotency_key: v.optional(v.nullable(v.string())),
  expires_in_sec: v.optional(v.nullable(v.number())),
});
export type WorkflowStartRequest = v.InferOutput<typeof WorkflowStartRequest>;

export const WorkflowStartResponse = v.object({
  run_id: v.string(),
  lease_id: v.string(),
  status: v.picklist(["started", "already_running"]),
});
export type WorkflowStartResponse = v.InferOutput<typeof WorkflowStartResponse>;

/** `state` is JSON text in the reference; an object is accepted too and echoed in the same form. */
export const WorkflowCheckpointRequest = v.looseObject({
  ...WorkflowTaskRequest.entries,
  state: v.optional(v.nullable(v.unknown())),
  last_node_id: v.optional(v.nullable(v.string())),
});
export type WorkflowCheckpointRequest = v.InferOutput<typeof WorkflowCheckpointRequest>;

export const WorkflowResumeResponse = v.object({
  task_id: v.string(),
  state: v.optional(v.unknown()),
  last_node_id: v.optional(v.string()),
  updated_at: v.string(),
});
export type WorkflowResumeResponse = v.InferOutput<typeof WorkflowResumeResponse>;

export const WorkflowReleaseRequest = v.looseObject({ ...WorkflowTaskRequest.entries, lease_id: v.string() });
