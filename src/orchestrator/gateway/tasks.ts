/**
 * Task endpoints: create, list, get, result, cancel, logs (contracts 1.3, 6). Ids are UUIDs or task names. Rows
 * become the user API's shapes here (status `pending` shows as `queued`; jobs' results are JSON text), and a new
 * task's job gets its sandbox spec by input mode (decision 7): prompts ask the model, scripts run `sh -c`, and
 * `use_sba` makes an agent job (decision 22) whose step lines the logs show while it runs.
 */
import * as v from "valibot";
import { Hono } from "hono";
import { jobOutput, type JobOutput } from "../../contracts/job-result";
import type { ProblemStatus } from "../../contracts/problem";
import { USER_API, USER_API_SCOPES } from "../../contracts/routes";
import {
  type CancelTaskResponse,
  type CreateTaskRequest,
  type ListTasksResponse,
  type TaskLogsResponse,
  type TaskResponse,
  type TaskResultResponse,
  TaskStatus,
  type TaskJob,
  type InputMode,
} from "../../contracts/user-api";
import { ProblemError } from "../../lib/http-problem";
import { describeRoute } from "../../lib/openapi";
import { validated } from "../../lib/validate";
import type { AnyRoute } from "../../contracts/route";
import type { Job, Task } from "../db/schema";
import {
  cancelTask,
  createTask,
  ensureDefaultProject,
  findTask,
  isUuid,
  jobsOfTask,
  listTasks,
  apiTaskStatus,
  dbTaskStatus,
} from "../db/tasks";
import type { CancelJobsOnNodes } from "../dispatch/cancel-jobs";
import { progressLines } from "../db/job-progress";
import { visibleSkill, visibleSkillNamed } from "../db/skills";
import type { TaskEndWaiter } from "../tasks/task-end-waiter";
import { requireUser, type AuthedUser, type GatewayRouteDeps } from "./require-user";
import type { NewTaskFile } from "../db/task-files";
import {
  attachmentLimits,
  createTaskBody,
  MULTIPART_CREATE_DOC,
  type AttachmentLimits,
  type UploadEnv,
} from "./task-uploads";
import { rfc3339 } from "../../lib/rfc3339";
import { PROMPT_MODEL_ENV, type SandboxSpec } from "../../contracts/worker-api";
import { liveInferenceNodes, resolveModel } from "../chat/live-nodes";
import { agentJobPayload, NO_AGENT_MODEL } from "../tasks/agent-job";
import type { HostEntry } from "../../lib/egress-hosts";
import { taskEgress } from "./task-egress";

export type TaskDeps = GatewayRouteDeps & {
  jobDefaults: JobDefaults;
  cancelJobsOnNodes?: CancelJobsOnNodes;
  /** Told after a job was queued (wakes this process's dispatcher instead of leaving the job to its next poll). */
  onJobQueued?: () => void;
  /** Serves `?wait=` on the result (long-poll); without it the result answers at once, as the reference's does. */
  taskEnds?: TaskEndWaiter;
  /** Tasks a user may have queued or running at once (`MAX_ACTIVE_TASKS_PER_USER`); beyond, 429. Unset: no cap. */
  maxActiveTasksPerUser?: number;
  /** Bounds on uploaded attachments (`MAX_TASK_ATTACHMENTS`, `MAX_ATTACHMENT_BYTES`); unset: the defaults. */
  attachmentLimits?: AttachmentLimits;
};

type ListQuery = v.InferOutput<typeof USER_API.listTasks.query>;

const BAD_PAGE = "Invalid limit, offset, or cursor";
const tags = ["tasks"];
const doc = (route: AnyRoute, summary: string, problems: ProblemStatus[]) =>
  describeRoute(route, { summary, tags, problems: [401, ...problems] });

function intParam(text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined || text === "") return fallback;
  if (!/^\d+$/.test(text)) throw new ProblemError(400, BAD_PAGE);
  const n = Number(text);
  if (n < min || n > max) throw new ProblemError(400, BAD_PAGE);
  return n;
}

async function ownedTask({ db }: TaskDeps, userId: string, idOrName: string) {
  const found = await findTask(db, userId, idOrName);
  if ("error" in found)
    throw found.error === "not_owner"
      ? new ProblemError(403, "Not task owner")
      : new ProblemError(404, "Task not found");
  return found.task;
}

/**
 * The job a new task queues. `use_sba` wins over the input mode (as in the reference): an agent job whose goal is
 * the prompt, with ids fixed now because its spec names them.
 */
async function newJob(
  d: TaskDeps,
  user: AuthedUser,
  req: CreateTaskRequest,
  mode: InputMode,
  extNetAllowed: boolean,
): Promise<{ jobPayload: SandboxSpec; ids?: { taskId: string; jobId: string } }> {
  if (req.skills?.length && !req.use_sba) throw new ProblemError(400, "Skills are given to agent tasks (use_sba)");
  if (req.use_sba) {
    const model = await agentModel(d);
    if (!model) throw new ProblemError(400, NO_AGENT_MODEL);
    const ids = { taskId: crypto.randomUUID(), jobId: crypto.randomUUID() };
    const jobPayload = agentJobPayload({
      ...ids,
      goal: req.prompt,
      allowedModels: [model],
      image: d.jobDefaults.sandboxImage,
      useInference: req.use_inference,
      skills: await taskSkills(d, user.id, req.skills ?? []),
      extNetAllowed,
    });
    return { jobPayload, ids };
  }
  return {
    jobPayload: jobPayloadFor(
      { prompt: req.prompt, mode, useInference: req.use_inference },
      mode === "prompt" ? { ...d.jobDefaults, inferenceModel: await promptModel(d) } : d.jobDefaults,
    ),
  };
}

/** The skills a task names (ids or names), as the caller sees them; 400 for one it cannot see. */
async function taskSkills(d: TaskDeps, userId: string, names: string[]) {
  const skills = [];
  for (const name of names) {
    const skill = isUuid(name)
      ? await visibleSkill(d.db, userId, name.toLowerCase())
      : await visibleSkillNamed(d.db, userId, name);
    if (!skill) throw new ProblemError(400, `Unknown skill: ${name}`);
    skills.push({ id: skill.id, name: skill.name, content: skill.content });
  }
  return skills;
}

async function create(
  d: TaskDeps,
  user: AuthedUser,
  req: CreateTaskRequest,
  files: NewTaskFile[] = [],
): Promise<TaskResponse> {
  if (!req.prompt.trim()) throw new ProblemError(400, "Prompt is required");
  if (req.project_id && !isUuid(req.project_id)) throw new ProblemError(400, "Invalid project_id");
  const mode = req.input_mode || "prompt";
  const egress = taskEgress(req.allowed_hosts, d.jobDefaults.egressPolicy ?? []);
  const job = await newJob(d, user, req, mode, !!egress.egress);
  const { task, attachments } = await createTask(d.db, {
    userId: user.id,
    projectId: req.project_id?.toLowerCase() ?? (await ensureDefaultProject(d.db, user.id)),
    prompt: req.prompt,
    name: normalizeTaskName(req.task_name),
    // The paths a client named (as the reference's does), else the uploaded files' names.
    attachments: req.attachments?.length ? req.attachments : files.map((f) => f.name),
    files,
    ...job,
    jobPayload: { ...job.jobPayload, ...egress },
    maxActiveJobs: d.maxActiveTasksPerUser,
  });
  d.log.info("task created", {
    task_id: task.id,
    user_id: user.id,
    input_mode: mode,
    ...(req.use_sba ? { use_sba: true } : {}),
  });
  d.onJobQueued?.();
  return taskView(task, attachments);
}

async function list({ db }: TaskDeps, userId: string, q: ListQuery): Promise<ListTasksResponse> {
  const limit = intParam(q.limit, 50, 1, 200);
  const offset = intParam(q.cursor || q.offset, 0, 0, Number.MAX_SAFE_INTEGER);
  let status: TaskStatus | undefined;
  if (q.status) {
    const parsed = v.safeParse(TaskStatus, q.status === "cancelled" ? "canceled" : q.status);
    if (!parsed.success) throw new ProblemError(400, "Invalid status");
    status = parsed.output;
  }
  const page = await listTasks(db, userId, { limit, offset, status: status && dbTaskStatus(status) });
  return {
    tasks: page.tasks.map((t) => taskView(t, t.attachments)),
    ...(page.hasMore ? { next_offset: offset + limit } : {}),
    next_cursor: page.hasMore ? String(offset + limit) : "",
  };
}

async function result(d: TaskDeps, userId: string, id: string, waitMs: number, signal: AbortSignal) {
  let task = await ownedTask(d, userId, id);
  if (waitMs && d.taskEnds) task = await d.taskEnds.wait(task, waitMs, signal, () => ownedTask(d, userId, task.id));
  const jobs = await jobsOfTask(d.db, task.id);
  const body: TaskResultResponse = {
    task_id: task.id,
    ...(task.summary ? { task_name: task.summary } : {}),
    status: taskView(task).status,
    jobs: jobs.map(jobView),
  };
  return body;
}

async function cancel(d: TaskDeps, userId: string, id: string): Promise<CancelTaskResponse> {
  const task = await ownedTask(d, userId, id);
  const running = await cancelTask(d.db, task.id, d.now());
  if (running.length && d.cancelJobsOnNodes) await d.cancelJobsOnNodes(running);
  d.log.info("task canceled", { task_id: task.id, jobs_on_nodes: running.length });
  return { task_id: task.id, canceled: true };
}

async function logs(d: TaskDeps, userId: string, id: string, stream: string): Promise<TaskLogsResponse> {
  const task = await ownedTask(d, userId, id);
  const outputs = (await jobsOfTask(d.db, task.id)).map(jobLogs);
  return {
    task_id: task.id,
    stdout: stream === "stderr" ? "" : outputs.map((o) => o.stdout).join(""),
    stderr: stream === "stdout" ? "" : outputs.map((o) => o.stderr).join(""),
  };
}

/** A job's output: its result once it has one; before, an agent job's step lines so far (one per step). */
function jobLogs(j: Job): JobOutput {
  const result = jsonText(j.result);
  if (result !== undefined) return jobOutput(result);
  return {
    stdout: progressLines(j.progress)
      .map((l) => `${l}\n`)
      .join(""),
    stderr: "",
  };
}

/**
 * The task operations behind the routes, with their checks, for the chat agent's tools (decision 26): the agent
 * acts as its user through exactly these, never a second implementation.
 */
export const TASK_OPERATIONS = { get: ownedTask, create, list, result, cancel, logs };

export function taskRoutes(d: TaskDeps) {
  const { createTask: CREATE, listTasks: LIST, task: GET, taskResult: RESULT, cancelTask: CANCEL } = USER_API;
  const LOGS = USER_API.taskLogs;
  return new Hono<UploadEnv>()
    .use(USER_API_SCOPES.tasks, requireUser(d.tokens))
    .post(
      CREATE.pattern,
      describeRoute(CREATE, {
        summary: "Create a task (its job is queued); multipart/form-data uploads attachments with it",
        tags,
        problems: [401, 400, 429],
        requestContent: MULTIPART_CREATE_DOC,
      }),
      createTaskBody(attachmentLimits(d.attachmentLimits)),
      async (c) => c.json(await create(d, c.get("user"), c.req.valid("json"), c.get("uploads")), 201),
    )
    .get(
      LIST.pattern,
      doc(LIST, "List the caller's tasks", [400]),
      validated("query", LIST.query, BAD_PAGE),
      async (c) => c.json(await list(d, c.get("user").id, c.req.valid("query"))),
    )
    .get(GET.pattern, doc(GET, "A task (by id or name)", [403, 404]), async (c) => {
      const task = await ownedTask(d, c.get("user").id, c.req.param("id"));
      return c.json(taskView(task, task.attachments));
    })
    .get(
      RESULT.pattern,
      doc(RESULT, "A task's status and jobs (`wait`: long-poll up to 60 s for the end)", [400, 403, 404]),
      validated("query", RESULT.query, "wait must be a number of seconds from 0 to 60"),
      async (c) => {
        const waitMs = c.req.valid("query").wait * 1000;
        return c.json(await result(d, c.get("user").id, c.req.param("id"), waitMs, c.req.raw.signal));
      },
    )
    .post(CANCEL.pattern, doc(CANCEL, "Cancel a task", [403, 404]), async (c) =>
      c.json(await cancel(d, c.get("user").id, c.req.param("id"))),
    )
    .get(
      LOGS.pattern,
      doc(LOGS, "A task's output (while an agent job runs: its step lines so far)", [400, 403, 404]),
      validated("query", LOGS.query, "stream must be stdout, stderr or all"),
      async (c) => {
        const stream = c.req.valid("query").stream || "all";
        return c.json(await logs(d, c.get("user").id, c.req.param("id"), stream));
      },
    );
}

/** A task row in the user API's shape. */
export function taskView(t: Task, attachments: string[] = []): TaskResponse {
  const name = t.summary ?? undefined;
  return {
    id: t.id,
    task_id: t.id,
    status: apiTaskStatus(t.status),
    ...(name !== undefined ? { task_name: name, summary: name } : {}),
    ...(t.prompt !== null ? { prompt: t.prompt } : {}),
    created_at: rfc3339(t.created_at),
    updated_at: rfc3339(t.updated_at),
    ...(attachments.length ? { attachments } : {}),
  };
}

/** postgres.js hands jsonb back parsed; the wire wants the JSON text, as the reference stores it. */
export const jsonText = (value: unknown): string | undefined =>
  value === null || value === undefined ? undefined : typeof value === "string" ? value : JSON.stringify(value);

export function jobView(j: Job): TaskJob {
  const result = jsonText(j.result);
  return {
    id: j.id,
    status: j.status,
    ...(result !== undefined ? { result } : {}),
    ...(j.started_at ? { started_at: rfc3339(j.started_at) } : {}),
    ...(j.ended_at ? { ended_at: rfc3339(j.ended_at) } : {}),
  };
}

/**
 * The model a prompt task runs, fixed when the task is created: the configured default when a live node serves it,
 * else the model most live nodes serve (then by name); the default when no live node serves any model yet.
 */
async function promptModel(d: TaskDeps): Promise<string> {
  const fallback = d.jobDefaults.inferenceModel;
  return resolveModel(await liveInferenceNodes(d.db, { now: d.now() }), fallback) ?? fallback;
}

/** The model an agent job may ask, chosen like a prompt task's; undefined when none is served nor configured. */
async function agentModel(d: TaskDeps): Promise<string | undefined> {
  return (await promptModel(d)).trim() || undefined;
}

/** The sandbox spec a new task's job runs, by its input mode. */
export type JobDefaults = {
  sandboxImage: string;
  inferenceModel: string;
  /** The operator's EGRESS_ALLOWED_HOSTS: what a task's `allowed_hosts` may ask for (empty: nothing). */
  egressPolicy?: readonly HostEntry[];
};

export function jobPayloadFor(
  req: { prompt: string; mode: InputMode; useInference?: boolean },
  d: JobDefaults,
): SandboxSpec {
  if (req.mode === "prompt")
    return {
      image: d.sandboxImage,
      command: ["cynode-prompt"],
      env: { CYNODE_PROMPT: req.prompt, [PROMPT_MODEL_ENV]: d.inferenceModel },
      use_inference: true,
    };
  return {
    image: d.sandboxImage,
    command: ["sh", "-c", req.prompt],
    ...(req.useInference ? { use_inference: true } : {}),
  };
}

/** Task names: lowercase, runs of anything but [a-z0-9] become one dash, no leading/trailing dash. */
export function normalizeTaskName(name: string | undefined): string {
  return (name ?? "")
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 100)
    .replace(/-+$/, "");
}
