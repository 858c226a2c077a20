/** Task endpoints: create, list, get, result, cancel, logs (contracts 1.3, 6). Ids are UUIDs or task names. */
import { Hono } from "hono";
import * as v from "valibot";
import type { Logger } from "../../lib/log";
import { ProblemError } from "../../lib/http-problem";
import { describeRoute } from "../../lib/openapi";
import { validated } from "../../lib/validate";
import {
  CancelTaskResponse,
  CreateTaskRequest,
  ListTasksQuery,
  ListTasksResponse,
  TaskLogsQuery,
  TaskLogsResponse,
  TaskResponse,
  TaskResultQuery,
  TaskResultResponse,
  TaskStatus,
} from "../../contracts/user-api";
import type { Db } from "../db/connect";
import { cancelTask, createTask, ensureDefaultProject, findTask, isUuid, jobsOfTask, listTasks } from "../db/tasks";
import { jobPayloadFor, normalizeTaskName, type JobDefaults } from "../tasks/job-payload";
import type { Tokens } from "../auth/tokens";
import { requireUser, type GatewayEnv } from "./require-user";
import { jobOutput } from "../../contracts/job-result";
import { dbStatus, jobView, jsonText, taskView } from "./task-views";
import type { TaskEndWaiter } from "../tasks/task-end-waiter";

/** Asks the nodes running these jobs to stop them; failures are the callee's to log. */
export type CancelJobsOnNodes = (jobs: { id: string; node_id: string }[]) => Promise<void>;

export type TaskDeps = {
  db: Db;
  tokens: Tokens;
  log: Logger;
  now: () => Date;
  jobDefaults: JobDefaults;
  cancelJobsOnNodes?: CancelJobsOnNodes;
  /** Told after a job was queued (wakes this process's dispatcher instead of leaving the job to its next poll). */
  onJobQueued?: () => void;
  /** Serves `?wait=` on the result (long-poll); without it the result answers at once, as the reference's does. */
  taskEnds?: TaskEndWaiter;
};

const BAD_PAGE = "Invalid limit, offset, or cursor";
const tags = ["tasks"];
const doc = (summary: string, ok: Record<number, v.GenericSchema>, problems: (400 | 403 | 404)[]) =>
  describeRoute({ summary, tags, auth: true, responses: ok, problems: [401, ...problems] });
const resultQuery = validated("query", TaskResultQuery, "wait must be a number of seconds from 0 to 60");

function intParam(text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined || text === "") return fallback;
  if (!/^\d+$/.test(text)) throw new ProblemError(400, BAD_PAGE);
  const n = Number(text);
  if (n < min || n > max) throw new ProblemError(400, BAD_PAGE);
  return n;
}

export function taskRoutes({ db, tokens, log, now, jobDefaults, cancelJobsOnNodes, onJobQueued, taskEnds }: TaskDeps) {
  async function ownedTask(userId: string, idOrName: string) {
    const found = await findTask(db, userId, idOrName);
    if ("error" in found)
      throw found.error === "not_owner"
        ? new ProblemError(403, "Not task owner")
        : new ProblemError(404, "Task not found");
    return found.task;
  }

  return new Hono<GatewayEnv>()
    .use(requireUser(tokens))
    .post(
      "/",
      doc("Create a task (its job is queued)", { 201: TaskResponse }, [400]),
      validated("json", CreateTaskRequest, "Invalid request body"),
      async (c) => {
        const req = c.req.valid("json");
        const user = c.get("user");
        if (!req.prompt.trim()) throw new ProblemError(400, "Prompt is required");
        if (req.project_id && !isUuid(req.project_id)) throw new ProblemError(400, "Invalid project_id");
        const mode = req.input_mode || "prompt";
        const { task, attachments } = await createTask(db, {
          userId: user.id,
          projectId: req.project_id?.toLowerCase() ?? (await ensureDefaultProject(db, user.id)),
          prompt: req.prompt,
          name: normalizeTaskName(req.task_name),
          attachments: req.attachments ?? [],
          jobPayload: jobPayloadFor({ prompt: req.prompt, mode, useInference: req.use_inference }, jobDefaults),
        });
        log.info("task created", { task_id: task.id, user_id: user.id, input_mode: mode });
        onJobQueued?.();
        return c.json(taskView(task, attachments), 201);
      },
    )
    .get(
      "/",
      doc("List the caller's tasks", { 200: ListTasksResponse }, [400]),
      validated("query", ListTasksQuery, BAD_PAGE),
      async (c) => {
        const q = c.req.valid("query");
        const limit = intParam(q.limit, 50, 1, 200);
        const offset =
          q.cursor !== undefined && q.cursor !== ""
            ? intParam(q.cursor, 0, 0, Number.MAX_SAFE_INTEGER)
            : intParam(q.offset, 0, 0, Number.MAX_SAFE_INTEGER);
        let status: TaskStatus | undefined;
        if (q.status) {
          const parsed = v.safeParse(TaskStatus, q.status === "cancelled" ? "canceled" : q.status);
          if (!parsed.success) throw new ProblemError(400, "Invalid status");
          status = parsed.output;
        }
        const page = await listTasks(db, c.get("user").id, { limit, offset, status: status && dbStatus(status) });
        const body: ListTasksResponse = {
          tasks: page.tasks.map((t) => taskView(t, t.attachments)),
          ...(page.hasMore ? { next_offset: offset + limit } : {}),
          next_cursor: page.hasMore ? String(offset + limit) : "",
        };
        return c.json(body);
      },
    )
    .get("/:id", doc("A task (by id or name)", { 200: TaskResponse }, [403, 404]), async (c) => {
      const task = await ownedTask(c.get("user").id, c.req.param("id"));
      return c.json(taskView(task, task.attachments));
    })
    .get(
      "/:id/result",
      doc(
        "A task's status and jobs (`wait`: long-poll up to 60 s for the end)",
        { 200: TaskResultResponse },
        [400, 403, 404],
      ),
      resultQuery,
      async (c) => {
        const userId = c.get("user").id;
        let task = await ownedTask(userId, c.req.param("id"));
        const waitMs = c.req.valid("query").wait * 1000;
        if (waitMs && taskEnds)
          task = await taskEnds.wait(task, waitMs, c.req.raw.signal, () => ownedTask(userId, task.id));
        const jobs = await jobsOfTask(db, task.id);
        const body: TaskResultResponse = {
          task_id: task.id,
          ...(task.summary ? { task_name: task.summary } : {}),
          status: taskView(task).status,
          jobs: jobs.map(jobView),
        };
        return c.json(body);
      },
    )
    .post("/:id/cancel", doc("Cancel a task", { 200: CancelTaskResponse }, [403, 404]), async (c) => {
      const task = await ownedTask(c.get("user").id, c.req.param("id"));
      const running = await cancelTask(db, task.id, now());
      if (running.length && cancelJobsOnNodes) await cancelJobsOnNodes(running);
      log.info("task canceled", { task_id: task.id, jobs_on_nodes: running.length });
      const body: CancelTaskResponse = { task_id: task.id, canceled: true };
      return c.json(body);
    })
    .get(
      "/:id/logs",
      doc("A task's output", { 200: TaskLogsResponse }, [400, 403, 404]),
      validated("query", TaskLogsQuery, "stream must be stdout, stderr or all"),
      async (c) => {
        const stream = c.req.valid("query").stream || "all";
        const task = await ownedTask(c.get("user").id, c.req.param("id"));
        const outputs = (await jobsOfTask(db, task.id)).map((j) => jobOutput(jsonText(j.result)));
        const body: TaskLogsResponse = {
          task_id: task.id,
          stdout: stream === "stderr" ? "" : outputs.map((o) => o.stdout).join(""),
          stderr: stream === "stdout" ? "" : outputs.map((o) => o.stderr).join(""),
        };
        return c.json(body);
      },
    );
}
