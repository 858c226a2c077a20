/** User API (gateway :12080) payloads, shared by the gateway and cynork. Field names per reference-contracts 1.3 and 6. */
import * as v from "valibot";
import { LIMITS, List, Text } from "./storable";
import { OUTPUT_STREAMS } from "./worker-api";
import { AllowedHosts } from "./egress";

const Timestamp = v.string();

export const LoginRequest = v.object({ handle: Text(LIMITS.name), password: Text(LIMITS.secret) });
export const RefreshRequest = v.object({ refresh_token: Text(LIMITS.secret) });
export const LogoutRequest = v.object({ refresh_token: v.optional(Text(LIMITS.secret)) });
export const LoginResponse = v.object({
  access_token: v.string(),
  refresh_token: v.string(),
  token_type: v.literal("Bearer"),
  expires_in: v.number(),
});

export const UserResponse = v.object({
  id: v.string(),
  handle: v.string(),
  email: v.optional(v.string()),
  is_active: v.boolean(),
});

/** `POST /v1/users` (admin): a new local user with its password. */
export const CreateUserRequest = v.object({
  handle: Text(LIMITS.name),
  password: Text(LIMITS.secret),
  email: v.optional(Text(LIMITS.name)),
});
/** `POST /v1/users/{id}/reset_password` (admin). */
export const ResetPasswordRequest = v.object({ password: Text(LIMITS.secret) });
/** `GET /v1/users` (admin): every user, oldest first. */
export const ListUsersResponse = v.object({ users: v.array(UserResponse) });

/** A node as the admin sees it (`GET /v1/nodes`): liveness by the one rule readiness, dispatch and chat use. */
export const NodeView = v.object({
  node_slug: v.string(),
  /** `active` (registered), `inactive` (reset by an admin, until it registers again), … */
  status: v.string(),
  /** Configured, reporting within the window and not suspect: the node takes work and chats. */
  live: v.boolean(),
  last_seen_at: v.nullable(Timestamp),
  worker_api_url: v.nullable(v.string()),
  /** Jobs it may run at once (reported, else the dispatcher's default; 0 for a node without sandboxes) and runs now. */
  capacity: v.object({ max_concurrency: v.number(), running: v.number() }),
  /** Models its inference serves (empty when it runs none). */
  models: v.array(v.string()),
  /** Whether the slug is bound to a node key (decision 25); false for a node from before identity keys, or reset. */
  key_bound: v.boolean(),
});
/** `GET /v1/nodes` (admin): every registered node, by slug. */
export const ListNodesResponse = v.object({ nodes: v.array(NodeView) });

/** Task status as the API shows it (`queued` is the database's `pending`). */
export const TASK_STATUSES = ["queued", "running", "completed", "failed", "canceled", "superseded"] as const;
export const TaskStatus = v.picklist(TASK_STATUSES);
export const TERMINAL_TASK_STATUSES: readonly TaskStatus[] = ["completed", "failed", "canceled", "superseded"];

export const JOB_STATUSES = ["queued", "running", "completed", "failed", "canceled", "lease_expired"] as const;
export const JobStatus = v.picklist(JOB_STATUSES);

export const INPUT_MODES = ["prompt", "script", "commands"] as const;
export const InputMode = v.picklist(INPUT_MODES);

export const CreateTaskRequest = v.object({
  prompt: Text(LIMITS.body),
  // "" means the default (prompt), as in the reference.
  input_mode: v.optional(v.union([InputMode, v.literal("")])),
  task_name: v.optional(Text(LIMITS.name)),
  project_id: v.optional(Text(LIMITS.name)),
  attachments: v.optional(List(Text(LIMITS.text))),
  use_inference: v.optional(v.boolean()),
  use_sba: v.optional(v.boolean()),
  /** Skills (ids or names the caller can see) an agent task's job carries in its spec's context. */
  skills: v.optional(List(Text(LIMITS.name))),
  /** Hosts the job may reach through its sandbox's proxy (decision 28), each within EGRESS_ALLOWED_HOSTS. */
  allowed_hosts: v.optional(AllowedHosts),
});

export const TaskResponse = v.object({
  id: v.string(),
  task_id: v.string(),
  status: TaskStatus,
  task_name: v.optional(v.string()),
  prompt: v.optional(v.string()),
  summary: v.optional(v.string()),
  created_at: Timestamp,
  updated_at: Timestamp,
  attachments: v.optional(v.array(v.string())),
});

export const ListTasksQuery = v.object({
  limit: v.optional(Text(LIMITS.name)),
  offset: v.optional(Text(LIMITS.name)),
  cursor: v.optional(Text(LIMITS.name)),
  status: v.optional(Text(LIMITS.name)),
});

export const ListTasksResponse = v.object({
  tasks: v.array(TaskResponse),
  next_offset: v.optional(v.number()),
  /** Always present; "" on the last page. */
  next_cursor: v.string(),
});

export const TaskJob = v.object({
  id: v.string(),
  status: JobStatus,
  /** JSON text of the worker's RunJobResponse (or of a dispatch error object), as in the reference. */
  result: v.optional(v.string()),
  started_at: v.optional(Timestamp),
  ended_at: v.optional(Timestamp),
});

/** Longest long-poll on a task's result, in seconds. */
export const MAX_RESULT_WAIT_S = 60;
/** `GET /v1/tasks/{id}/result?wait=<seconds>`: long-poll until the task ends (0 or absent: answer now). */
export const TaskResultQuery = v.object({
  wait: v.optional(
    v.pipe(v.string(), v.regex(/^\d{1,2}(\.\d{1,3})?$/), v.transform(Number), v.maxValue(MAX_RESULT_WAIT_S)),
    "0",
  ),
});

export const TaskResultResponse = v.object({
  task_id: v.string(),
  task_name: v.optional(v.string()),
  status: TaskStatus,
  jobs: v.array(TaskJob),
});

export const CancelTaskResponse = v.object({ task_id: v.string(), canceled: v.literal(true) });

export const LOG_STREAMS = [...OUTPUT_STREAMS, "all"] as const;
export const TaskLogsQuery = v.object({ stream: v.optional(v.picklist([...LOG_STREAMS, ""])) });
export const TaskLogsResponse = v.object({ task_id: v.string(), stdout: v.string(), stderr: v.string() });

export type LoginRequest = v.InferOutput<typeof LoginRequest>;
export type LoginResponse = v.InferOutput<typeof LoginResponse>;
export type UserResponse = v.InferOutput<typeof UserResponse>;
export type CreateUserRequest = v.InferOutput<typeof CreateUserRequest>;
export type ListUsersResponse = v.InferOutput<typeof ListUsersResponse>;
export type NodeView = v.InferOutput<typeof NodeView>;
export type ListNodesResponse = v.InferOutput<typeof ListNodesResponse>;
export type TaskStatus = v.InferOutput<typeof TaskStatus>;
export type JobStatus = v.InferOutput<typeof JobStatus>;
export type InputMode = v.InferOutput<typeof InputMode>;
export type CreateTaskRequest = v.InferOutput<typeof CreateTaskRequest>;
export type TaskResponse = v.InferOutput<typeof TaskResponse>;
export type ListTasksResponse = v.InferOutput<typeof ListTasksResponse>;
export type TaskJob = v.InferOutput<typeof TaskJob>;
export type TaskResultResponse = v.InferOutput<typeof TaskResultResponse>;
export type CancelTaskResponse = v.InferOutput<typeof CancelTaskResponse>;
export type TaskLogsResponse = v.InferOutput<typeof TaskLogsResponse>;
