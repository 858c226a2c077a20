/** The kysely `Database` interface: every table and column the orchestrator uses (reference-contracts section 8). */
import type { ColumnType, Generated, Insertable, Selectable } from "kysely";
import type { ConfigAckStatus } from "../../contracts/node-payloads";
import type { JobStatus, TaskStatus } from "../../contracts/user-api";
import type { SandboxSpec } from "../../contracts/worker-api";

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
/** jsonb: written as JS values (postgres.js serializes them), read back parsed. */
type Json = ColumnType<unknown, unknown, unknown>;

export interface UsersTable {
  id: string;
  handle: string;
  email: string | null;
  is_active: Generated<boolean>;
  external_source: string | null;
  external_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface PasswordCredentialsTable {
  id: string;
  user_id: string;
  password_hash: Uint8Array;
  hash_alg: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface RefreshSessionsTable {
  id: string;
  user_id: string;
  /** Every session created by rotating one refresh token shares its family; reuse revokes the family. */
  family_id: string;
  refresh_token_hash: Uint8Array;
  refresh_token_kid: string | null;
  is_active: Generated<boolean>;
  /** Set when the session was rotated (as opposed to logged out or revoked). */
  rotated_at: NullableTimestamp;
  expires_at: Timestamp;
  last_used_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** A session (login family) ended before its tokens expire; its access and refresh tokens are refused until then. */
export interface RevokedSessionsTable {
  session_id: string;
  revoked_at: Generated<Date>;
  expires_at: Timestamp;
}

export interface AuthAuditLogTable {
  id: string;
  user_id: string | null;
  event_type: string;
  success: boolean;
  subject_handle: string | null;
  ip_address: string | null;
  user_agent: string | null;
  reason: string | null;
  created_at: Timestamp;
}

export interface ProjectsTable {
  id: string;
  slug: string;
  display_name: string;
  description: string | null;
  is_active: Generated<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
  updated_by: string | null;
}

/** Task status as stored: the API's, but `queued` is stored as `pending` (as the reference does). */
export type DbTaskStatus = Exclude<TaskStatus, "queued"> | "pending";

/** Jobs still to run or running: what a cancel stops, and what keeps a task from completing. */
export const ACTIVE_JOB_STATUSES = ["queued", "running"] as const satisfies readonly JobStatus[];

export const NODE_STATUSES = ["registered", "active", "inactive", "drained"] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];

export interface TasksTable {
  id: string;
  created_by: string | null;
  project_id: string | null;
  plan_id: string | null;
  status: DbTaskStatus;
  closed: Generated<boolean>;
  prompt: string | null;
  acceptance_criteria: Json;
  /** Holds the task name, as in the reference. */
  summary: string | null;
  description: string | null;
  metadata: Json;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface JobsTable {
  id: string;
  task_id: string;
  /** The task's creator, copied so the claim can take turns by user (the nil uuid for a task without one). */
  owner_id: Generated<string>;
  node_id: string | null;
  status: JobStatus;
  /**
   * The sandbox spec the job runs, written typed; read back as stored JSON, which db/job-queue.ts validates
   * where the dispatcher reads it. `result` is the JSON text of the worker's answer (reference quirk).
   */
  payload: ColumnType<unknown, SandboxSpec, unknown>;
  result: Json;
  /** An agent job's step lines so far (a JSON array of strings), reported by its node while it runs. */
  progress: ColumnType<unknown, unknown | undefined, unknown>;
  lease_id: string | null;
  lease_expires_at: NullableTimestamp;
  /** How many times the job went back to the queue after losing its node: the backoff before its next claim grows with it. */
  lease_expirations: Generated<number>;
  /** Nodes this job was lost on (connection failed, node dead); it is not offered to them again. */
  excluded_node_ids: ColumnType<string[], string[] | undefined, string[]>;
  /** Backoff after a loss: not claimed before this time. */
  not_before: NullableTimestamp;
  /** When the job first lost its node; it fails when no live node took it within the bound from here. */
  lost_at: NullableTimestamp;
  started_at: NullableTimestamp;
  ended_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface NodesTable {
  id: string;
  node_slug: string;
  status: NodeStatus;
  capability_hash: string | null;
  config_version: string | null;
  /** sha256 of the config content `config_version` was minted for; a change mints a new version. */
  config_hash: string | null;
  worker_api_target_url: string | null;
  /** Encrypted at rest (AES-GCM, see auth/secret-box.ts). */
  worker_api_bearer_token: string | null;
  config_ack_at: NullableTimestamp;
  config_ack_status: ConfigAckStatus | null;
  config_ack_error: string | null;
  /** The config_version the last ack was for; a node is dispatchable only when it equals config_version. */
  config_ack_version: string | null;
  last_seen_at: NullableTimestamp;
  last_capability_at: NullableTimestamp;
  /** Set by a failed connection to the node; cleared when it answers a probe or reports again. */
  suspect_since: NullableTimestamp;
  /** The node key (public JWK) the slug is bound to (decision 25); null until a registration brings one. */
  public_key: Json;
  /** RFC 7638 thumbprint of `public_key`; node tokens carry it and die when it changes. */
  key_thumbprint: string | null;
  key_bound_at: NullableTimestamp;
  metadata: Json;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** One-time ids (`jti`) of node registration proofs, kept until they expire. */
export interface NodeProofIdsTable {
  jti: string;
  node_slug: string;
  expires_at: Timestamp;
  created_at: Generated<Timestamp>;
}

export interface NodeCapabilitiesTable {
  id: string;
  node_id: string;
  reported_at: Timestamp;
  capability_snapshot: Json;
  hash: string;
}

export interface TaskArtifactsTable {
  id: string;
  task_id: string;
  run_id: string | null;
  path: string;
  storage_ref: string;
  size_bytes: string | null;
  content_type: string | null;
  checksum_sha256: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ApiCredentialsTable {
  id: string;
  provider: string;
  is_active: Generated<boolean>;
  created_at: Timestamp;
}

export interface ChatAuditLogTable {
  id: string;
  user_id: string | null;
  model: string;
  node_id: string | null;
  stream: boolean;
  message_count: number;
  status_code: number;
  /** `completed`, `canceled`, or the OpenAI error code the request ended with. */
  outcome: string;
  duration_ms: number;
  ip_address: string | null;
  created_at: Timestamp;
}

/** When each owner of jobs was last given a slot: `turn` is from a sequence, larger is more recent. */
export interface DispatchTurnsTable {
  owner_id: string;
  turn: ColumnType<string, unknown, unknown>;
}

/** A task's attachment or artifact (migration 0011): what is listed of it; its bytes are its chunks. */
export interface TaskFilesTable {
  task_id: string;
  kind: "attachment" | "artifact";
  name: string;
  job_id: string | null;
  size_bytes: ColumnType<string, number, number>;
  sha256: string;
  content_type: string;
  created_at: Generated<Date>;
}

/** A file's bytes, in order of `seq`. */
export interface TaskFileChunksTable {
  task_id: string;
  kind: "attachment" | "artifact";
  name: string;
  seq: number;
  data: Uint8Array;
}

/** Settings every orchestrator on the database shares (see cluster-key.ts). */
export interface ClusterSettingsTable {
  name: string;
  value: string;
  created_at: Generated<Date>;
}

/** A chat thread of one user (reference-agents 2.5); `updated_at` moves with each message. */
export interface ChatThreadsTable {
  id: string;
  user_id: string;
  project_id: string | null;
  title: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** A thread's messages, append-only, stored redacted; `seq` orders them. */
export interface ChatMessagesTable {
  id: string;
  thread_id: string;
  role: string;
  content: string;
  metadata: Json;
  seq: Generated<string>;
  created_at: Timestamp;
}

/** One row per tool call of the chat agent: arguments capped, never the result. */
export interface ChatToolCallsTable {
  id: string;
  user_id: string;
  thread_id: string | null;
  tool: string;
  arguments: string;
  /** `ok` or `error`. */
  outcome: string;
  error: string | null;
  duration_ms: number;
  seq: Generated<string>;
  created_at: Timestamp;
}

export interface SkillsTable {
  id: string;
  name: string;
  content: string;
  /** `user` or `global`. */
  scope: string;
  owner_id: string | null;
  is_system: Generated<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** A holder's lease on a task's workflow run (reference-agents 4); released: no holder. */
export interface WorkflowLeasesTable {
  id: string;
  task_id: string;
  lease_id: string;
  holder_id: string | null;
  expires_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface WorkflowCheckpointsTable {
  id: string;
  task_id: string;
  state: Json;
  last_node_id: string;
  updated_at: Timestamp;
}

export interface Database {
  users: UsersTable;
  password_credentials: PasswordCredentialsTable;
  refresh_sessions: RefreshSessionsTable;
  revoked_sessions: RevokedSessionsTable;
  auth_audit_log: AuthAuditLogTable;
  projects: ProjectsTable;
  tasks: TasksTable;
  jobs: JobsTable;
  nodes: NodesTable;
  node_capabilities: NodeCapabilitiesTable;
  task_artifacts: TaskArtifactsTable;
  api_credentials: ApiCredentialsTable;
  chat_audit_log: ChatAuditLogTable;
  cluster_settings: ClusterSettingsTable;
  dispatch_turns: DispatchTurnsTable;
  node_proof_ids: NodeProofIdsTable;
  chat_threads: ChatThreadsTable;
  chat_messages: ChatMessagesTable;
  chat_tool_calls: ChatToolCallsTable;
  skills: SkillsTable;
  task_workflow_leases: WorkflowLeasesTable;
  workflow_checkpoints: WorkflowCheckpointsTable;
  task_files: TaskFilesTable;
  task_file_chunks: TaskFileChunksTable;
}

export type User = Selectable<UsersTable>;
export type Task = Selectable<TasksTable>;
export type Job = Selectable<JobsTable>;
export type Node = Selectable<NodesTable>;
export type NewTask = Insertable<TasksTable>;
export type ChatThread = Selectable<ChatThreadsTable>;
export type ChatMessageRow = Selectable<ChatMessagesTable>;
export type ChatToolCall = Selectable<ChatToolCallsTable>;
export type Skill = Selectable<SkillsTable>;
