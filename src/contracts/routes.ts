/**
 * Every route of the three HTTP APIs, declared once (see route.ts): the servers mount these tables, the clients
 * (cynork, the node manager, the dispatcher, the gateway's chat) call them, and src/testing/api-routes.test.ts
 * checks that each server mounts exactly its table.
 */
import * as chat from "./chat-agent";
import * as openai from "./openai";
import * as skills from "./skills";
import * as workflow from "./workflow";
import {
  NodeBootstrapPayload,
  NodeCapabilityReport,
  NodeConfigAck,
  NodeConfigurationPayload,
  JobProgressReport,
  RegistrationRequest,
} from "./node-payloads";
import { route } from "./route";
import * as files from "./task-files";
import * as telemetry from "./telemetry";
import * as user from "./user-api";
import { CancelJobResponse, RunJobRequest, RunJobResponse } from "./worker-api";

/** Plain-text liveness and readiness, without a token, on every API. */
export const HEALTH = { healthz: route("GET", "/healthz"), readyz: route("GET", "/readyz") };

/** Each API's OpenAPI document and interactive reference (lib/api-reference.ts). */
export const REFERENCE = {
  openapi: route("GET", "/openapi.json"),
  docs: route("GET", "/docs"),
  docsScript: route("GET", "/docs/scalar.js"),
};

/** The web console (src/web, decision 27): its page and the bundle's two files, outside the versioned API. */
export const CONSOLE = {
  console: route("GET", "/"),
  consoleScript: route("GET", "/console.js"),
  consoleStyle: route("GET", "/console.css"),
};

/** Prometheus text format, on the control-plane and the Worker API (not on the gateway's public port). */
export const METRICS = { metrics: route("GET", "/metrics") };

/** The user gateway (:12080), reference-contracts 1.3 and 6, plus its OpenAI-compatible surface. */
export const USER_API = {
  ...HEALTH,
  ...REFERENCE,
  ...CONSOLE,
  login: route("POST", "/v1/auth/login", { body: user.LoginRequest, response: user.LoginResponse }),
  refresh: route("POST", "/v1/auth/refresh", { body: user.RefreshRequest, response: user.LoginResponse }),
  logout: route("POST", "/v1/auth/logout", { auth: true, body: user.LogoutRequest, status: 204 }),
  me: route("GET", "/v1/users/me", { auth: true, response: user.UserResponse }),
  revokeSessions: route("POST", "/v1/users/:id/revoke_sessions", { auth: true, status: 204 }),
  createUser: route("POST", "/v1/users", {
    auth: true,
    body: user.CreateUserRequest,
    response: user.UserResponse,
    status: 201,
  }),
  listUsers: route("GET", "/v1/users", { auth: true, response: user.ListUsersResponse }),
  disableUser: route("POST", "/v1/users/:id/disable", { auth: true, response: user.UserResponse }),
  enableUser: route("POST", "/v1/users/:id/enable", { auth: true, response: user.UserResponse }),
  resetPassword: route("POST", "/v1/users/:id/reset_password", {
    auth: true,
    body: user.ResetPasswordRequest,
    status: 204,
  }),
  listNodes: route("GET", "/v1/nodes", { auth: true, response: user.ListNodesResponse }),
  /** Forgets the node's key and ends its tokens: its next registration with the PSK binds again (decision 25). */
  resetNode: route("POST", "/v1/nodes/:slug/reset", { auth: true, response: user.NodeView }),
  createTask: route("POST", "/v1/tasks", {
    auth: true,
    body: user.CreateTaskRequest,
    response: user.TaskResponse,
    status: 201,
  }),
  listTasks: route("GET", "/v1/tasks", { auth: true, query: user.ListTasksQuery, response: user.ListTasksResponse }),
  task: route("GET", "/v1/tasks/:id", { auth: true, response: user.TaskResponse }),
  taskResult: route("GET", "/v1/tasks/:id/result", {
    auth: true,
    query: user.TaskResultQuery,
    response: user.TaskResultResponse,
  }),
  cancelTask: route("POST", "/v1/tasks/:id/cancel", { auth: true, response: user.CancelTaskResponse }),
  taskLogs: route("GET", "/v1/tasks/:id/logs", {
    auth: true,
    query: user.TaskLogsQuery,
    response: user.TaskLogsResponse,
  }),
  /** What the task's jobs left in `/job/artifacts` (decision 23). */
  taskArtifacts: route("GET", "/v1/tasks/:id/artifacts", { auth: true, response: files.ListArtifactsResponse }),
  /** One artifact's bytes, with its length and `Repr-Digest`. */
  taskArtifact: route("GET", "/v1/tasks/:id/artifacts/:name", { auth: true }),
  models: route("GET", "/v1/models", { auth: true, response: openai.ModelList }),
  /** `stream: true` answers server-sent `chat.completion.chunk` events instead of `response`. */
  chatCompletions: route("POST", "/v1/chat/completions", {
    auth: true,
    body: openai.ChatCompletionRequest,
    response: openai.ChatCompletion,
  }),
  createThread: route("POST", "/v1/chat/threads", {
    auth: true,
    body: chat.CreateThreadRequest,
    response: chat.Thread,
    status: 201,
  }),
  listThreads: route("GET", "/v1/chat/threads", { auth: true, query: chat.PageQuery, response: chat.ThreadList }),
  thread: route("GET", "/v1/chat/threads/:id", { auth: true, response: chat.Thread }),
  threadMessages: route("GET", "/v1/chat/threads/:id/messages", {
    auth: true,
    query: chat.PageQuery,
    response: chat.ThreadMessages,
  }),
  /** The chat agent's tool calls on the thread, in order (decision 26). */
  threadToolCalls: route("GET", "/v1/chat/threads/:id/tool_calls", { auth: true, response: chat.ToolCallList }),
  listSkills: route("GET", "/v1/skills", { auth: true, query: skills.SkillListQuery, response: skills.SkillList }),
  skill: route("GET", "/v1/skills/:id", { auth: true, response: skills.SkillBody }),
  loadSkill: route("POST", "/v1/skills/load", {
    auth: true,
    body: skills.LoadSkillRequest,
    response: skills.SkillMeta,
    status: 201,
  }),
  updateSkill: route("PUT", "/v1/skills/:id", {
    auth: true,
    body: skills.UpdateSkillRequest,
    response: skills.SkillMeta,
  }),
  deleteSkill: route("DELETE", "/v1/skills/:id", { auth: true, status: 204 }),
};

/**
 * Path scopes of the gateway (hono patterns), as the reference's: the body limit covers the versioned API, and any
 * path below `users`, `nodes` or `tasks`, an unknown one too, answers 401 without a user token (before any 404).
 */
export const USER_API_SCOPES = {
  versioned: "/v1/*",
  users: "/v1/users/*",
  nodes: "/v1/nodes/*",
  tasks: "/v1/tasks/*",
  skills: "/v1/skills/*",
} as const;

/** The control-plane (:12082): node registration, configuration and reports, reference-contracts 1.2 and 2. */
export const CONTROL_PLANE_API = {
  ...HEALTH,
  ...METRICS,
  ...REFERENCE,
  /** Answers 201 for a new node, 200 for a known one. */
  register: route("POST", "/v1/nodes/register", { body: RegistrationRequest, response: NodeBootstrapPayload }),
  config: route("GET", "/v1/nodes/config", { auth: true, response: NodeConfigurationPayload }),
  configAck: route("POST", "/v1/nodes/config", { auth: true, body: NodeConfigAck, status: 204 }),
  capability: route("POST", "/v1/nodes/capability", { auth: true, body: NodeCapabilityReport, status: 204 }),
  /** An agent job's step lines, from the node running it (appended to the job while it runs; capped). */
  jobProgress: route("POST", "/v1/nodes/jobs/:job_id/progress", { auth: true, body: JobProgressReport, status: 204 }),
  /** An attachment of a job this node runs now (its bytes), for its `/workspace`. */
  jobAttachment: route("GET", "/v1/nodes/jobs/:job_id/attachments/:name", { auth: true }),
  /** One artifact a job this node runs left (raw body), stored with its task. */
  jobArtifact: route("POST", "/v1/nodes/jobs/:job_id/artifacts/:name", {
    auth: true,
    response: files.TaskFileView,
    status: 201,
  }),
  /** The cluster CA (PEM, unauthenticated): a joining node compares its digest with the pin it was given. */
  clusterCa: route("GET", "/v1/cluster/ca"),
  /** Workflow leases (reference-agents 4): a holder's lease on a task's run, and its checkpoints. */
  workflowStart: route("POST", "/v1/workflow/start", {
    auth: true,
    body: workflow.WorkflowStartRequest,
    response: workflow.WorkflowStartResponse,
  }),
  workflowResume: route("POST", "/v1/workflow/resume", {
    auth: true,
    body: workflow.WorkflowTaskRequest,
    response: workflow.WorkflowResumeResponse,
  }),
  workflowCheckpoint: route("POST", "/v1/workflow/checkpoint", {
    auth: true,
    body: workflow.WorkflowCheckpointRequest,
    status: 204,
  }),
  workflowRelease: route("POST", "/v1/workflow/release", {
    auth: true,
    body: workflow.WorkflowReleaseRequest,
    status: 204,
  }),
};

/** `target` of the cancel route: `<job_id>:cancel`. */
export const cancelTarget = (jobId: string) => `${jobId}:cancel`;
/** The job id of a cancel `target`, or undefined when it is not one. */
export const canceledJobId = (target: string) => (target.endsWith(":cancel") ? target.slice(0, -7) : undefined);

/** The Worker API (node :12090), reference-contracts 1.4, its Telemetry API and the gateway's way to the model. */
export const WORKER_API = {
  ...HEALTH,
  ...METRICS,
  ...REFERENCE,
  runJob: route("POST", "/v1/worker/jobs:run", { auth: true, body: RunJobRequest, response: RunJobResponse }),
  /** `target` is `cancelTarget(jobId)`. */
  cancelJob: route("POST", "/v1/worker/jobs/:target", { auth: true, response: CancelJobResponse }),
  /** An Ollama `/api/chat` body in, Ollama's answer out (NDJSON lines of `response` when streamed). */
  inferenceChat: route("POST", "/v1/worker/inference:chat", {
    auth: true,
    body: openai.OllamaChatRequest,
    response: openai.OllamaChatResponse,
  }),
  nodeInfo: route("GET", "/v1/worker/telemetry/node:info", { auth: true, response: telemetry.NodeInfo }),
  nodeStats: route("GET", "/v1/worker/telemetry/node:stats", { auth: true, response: telemetry.NodeStats }),
  containers: route("GET", "/v1/worker/telemetry/containers", {
    auth: true,
    query: telemetry.ContainersQuery,
    response: telemetry.ContainerList,
  }),
  container: route("GET", "/v1/worker/telemetry/containers/:id", {
    auth: true,
    response: telemetry.ContainerResponse,
  }),
  logs: route("GET", "/v1/worker/telemetry/logs", {
    auth: true,
    query: telemetry.LogsQuery,
    response: telemetry.LogsResponse,
  }),
};
