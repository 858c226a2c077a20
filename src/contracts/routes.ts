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
import { authedRoute, creatingRoute, route } from "./route";
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
  logout: authedRoute("POST", "/v1/auth/logout", { body: user.LogoutRequest, status: 204 }),
  me: authedRoute("GET", "/v1/users/me", { response: user.UserResponse }),
  revokeSessions: authedRoute("POST", "/v1/users/:id/revoke_sessions", { status: 204 }),
  createUser: creatingRoute("/v1/users", user.CreateUserRequest, user.UserResponse),
  listUsers: authedRoute("GET", "/v1/users", { response: user.ListUsersResponse }),
  disableUser: authedRoute("POST", "/v1/users/:id/disable", { response: user.UserResponse }),
  enableUser: authedRoute("POST", "/v1/users/:id/enable", { response: user.UserResponse }),
  resetPassword: authedRoute("POST", "/v1/users/:id/reset_password", {
    body: user.ResetPasswordRequest,
    status: 204,
  }),
  listNodes: authedRoute("GET", "/v1/nodes", { response: user.ListNodesResponse }),
  /** Forgets the node's key and ends its tokens: its next registration with the PSK binds again (decision 25). */
  resetNode: authedRoute("POST", "/v1/nodes/:slug/reset", { response: user.NodeView }),
  createTask: creatingRoute("/v1/tasks", user.CreateTaskRequest, user.TaskResponse),
  listTasks: authedRoute("GET", "/v1/tasks", { query: user.ListTasksQuery, response: user.ListTasksResponse }),
  task: authedRoute("GET", "/v1/tasks/:id", { response: user.TaskResponse }),
  taskResult: authedRoute("GET", "/v1/tasks/:id/result", {
    query: user.TaskResultQuery,
    response: user.TaskResultResponse,
  }),
  cancelTask: authedRoute("POST", "/v1/tasks/:id/cancel", { response: user.CancelTaskResponse }),
  taskLogs: authedRoute("GET", "/v1/tasks/:id/logs", {
    query: user.TaskLogsQuery,
    response: user.TaskLogsResponse,
  }),
  /** What the task's jobs left in `/job/artifacts` (decision 23). */
  taskArtifacts: authedRoute("GET", "/v1/tasks/:id/artifacts", { response: files.ListArtifactsResponse }),
  /** One artifact's bytes, with its length and `Repr-Digest`. */
  taskArtifact: authedRoute("GET", "/v1/tasks/:id/artifacts/:name"),
  models: authedRoute("GET", "/v1/models", { response: openai.ModelList }),
  /** `stream: true` answers server-sent `chat.completion.chunk` events instead of `response`. */
  chatCompletions: authedRoute("POST", "/v1/chat/completions", {
    body: openai.ChatCompletionRequest,
    response: openai.ChatCompletion,
  }),
  createThread: creatingRoute("/v1/chat/threads", chat.CreateThreadRequest, chat.Thread),
  listThreads: authedRoute("GET", "/v1/chat/threads", { query: chat.PageQuery, response: chat.ThreadList }),
  thread: authedRoute("GET", "/v1/chat/threads/:id", { response: chat.Thread }),
  threadMessages: authedRoute("GET", "/v1/chat/threads/:id/messages", {
    query: chat.PageQuery,
    response: chat.ThreadMessages,
  }),
  /** The chat agent's tool calls on the thread, in order (decision 26). */
  threadToolCalls: authedRoute("GET", "/v1/chat/threads/:id/tool_calls", { response: chat.ToolCallList }),
  listSkills: authedRoute("GET", "/v1/skills", { query: skills.SkillListQuery, response: skills.SkillList }),
  skill: authedRoute("GET", "/v1/skills/:id", { response: skills.SkillBody }),
  loadSkill: creatingRoute("/v1/skills/load", skills.LoadSkillRequest, skills.SkillMeta),
  updateSkill: authedRoute("PUT", "/v1/skills/:id", {
    body: skills.UpdateSkillRequest,
    response: skills.SkillMeta,
  }),
  deleteSkill: authedRoute("DELETE", "/v1/skills/:id", { status: 204 }),
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
  config: authedRoute("GET", "/v1/nodes/config", { response: NodeConfigurationPayload }),
  configAck: authedRoute("POST", "/v1/nodes/config", { body: NodeConfigAck, status: 204 }),
  capability: authedRoute("POST", "/v1/nodes/capability", { body: NodeCapabilityReport, status: 204 }),
  /** An agent job's step lines, from the node running it (appended to the job while it runs; capped). */
  jobProgress: authedRoute("POST", "/v1/nodes/jobs/:job_id/progress", { body: JobProgressReport, status: 204 }),
  /** An attachment of a job this node runs now (its bytes), for its `/workspace`. */
  jobAttachment: authedRoute("GET", "/v1/nodes/jobs/:job_id/attachments/:name"),
  /** One artifact a job this node runs left (raw body), stored with its task. */
  jobArtifact: authedRoute("POST", "/v1/nodes/jobs/:job_id/artifacts/:name", {
    response: files.TaskFileView,
    status: 201,
  }),
  /** The cluster CA (PEM, unauthenticated): a joining node compares its digest with the pin it was given. */
  clusterCa: route("GET", "/v1/cluster/ca"),
  /** Workflow leases (reference-agents 4): a holder's lease on a task's run, and its checkpoints. */
  workflowStart: authedRoute("POST", "/v1/workflow/start", {
    body: workflow.WorkflowStartRequest,
    response: workflow.WorkflowStartResponse,
  }),
  workflowResume: authedRoute("POST", "/v1/workflow/resume", {
    body: workflow.WorkflowTaskRequest,
    response: workflow.WorkflowResumeResponse,
  }),
  workflowCheckpoint: authedRoute("POST", "/v1/workflow/checkpoint", {
    body: workflow.WorkflowCheckpointRequest,
    status: 204,
  }),
  workflowRelease: authedRoute("POST", "/v1/workflow/release", {
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
  runJob: authedRoute("POST", "/v1/worker/jobs:run", { body: RunJobRequest, response: RunJobResponse }),
  /** `target` is `cancelTarget(jobId)`. */
  cancelJob: authedRoute("POST", "/v1/worker/jobs/:target", { response: CancelJobResponse }),
  /** An Ollama `/api/chat` body in, Ollama's answer out (NDJSON lines of `response` when streamed). */
  inferenceChat: authedRoute("POST", "/v1/worker/inference:chat", {
    body: openai.OllamaChatRequest,
    response: openai.OllamaChatResponse,
  }),
  nodeInfo: authedRoute("GET", "/v1/worker/telemetry/node:info", { response: telemetry.NodeInfo }),
  nodeStats: authedRoute("GET", "/v1/worker/telemetry/node:stats", { response: telemetry.NodeStats }),
  containers: authedRoute("GET", "/v1/worker/telemetry/containers", {
    query: telemetry.ContainersQuery,
    response: telemetry.ContainerList,
  }),
  container: authedRoute("GET", "/v1/worker/telemetry/containers/:id", {
    response: telemetry.ContainerResponse,
  }),
  logs: authedRoute("GET", "/v1/worker/telemetry/logs", {
    query: telemetry.LogsQuery,
    response: telemetry.LogsResponse,
  }),
};
