/**
 * The workflow lease routes (reference-agents 4): start (take a task's lease), resume (its checkpoint), checkpoint,
 * release. With a workflow token configured, exactly that bearer is required; without, the routes are open, as the
 * reference's. Problem Details; a lease held by another is 409.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { createFactory } from "hono/factory";
import type * as v from "valibot";
import type { ProblemStatus } from "../../contracts/problem";
import type { AnyRoute } from "../../contracts/route";
import { CONTROL_PLANE_API } from "../../contracts/routes";
import type { WorkflowResumeResponse } from "../../contracts/workflow";
import { answered204 } from "../../lib/answered-204";
import { ProblemError } from "../../lib/http-problem";
import type { Logger } from "../../lib/log";
import { describeRoute } from "../../lib/openapi";
import { rfc3339 } from "../../lib/rfc3339";
import { validated } from "../../lib/validate";
import type { Db } from "../db/connect";
import { isUuid } from "../db/tasks";
import { checkpointOf, releaseLease, saveCheckpoint, takeLease } from "../db/workflow-leases";

export type WorkflowDeps = { db: Db; log: Logger; now: () => Date; token?: string };

const doc = (route: AnyRoute, summary: string, problems: ProblemStatus[]) =>
  describeRoute(route, { summary, tags: ["workflow"], problems: [400, 401, ...problems] });

function runnerToken(token: string | undefined): MiddlewareHandler {
  return async (c, next) => {
    if (token && c.req.header("authorization") !== `Bearer ${token}`)
      throw new ProblemError(401, "Missing or invalid workflow runner token");
    await next();
  };
}

async function existingTask(db: Db, taskId: string): Promise<string> {
  const id = isUuid(taskId) ? taskId.toLowerCase() : undefined;
  const task = id && (await db.selectFrom("tasks").select("id").where("id", "=", id).executeTakeFirst());
  if (!task) throw new ProblemError(404, "task not found");
  return task.id;
}

/** The task id of a checkpoint or release body: a UUID (the lease table keys on it). */
function taskUuid(taskId: string): string {
  if (!taskId.trim()) throw new ProblemError(400, "task_id required");
  if (!isUuid(taskId)) throw new ProblemError(404, "task not found");
  return taskId.toLowerCase();
}

/** `state` as JSON text (the reference's) must parse; an object is taken as it is. */
function checkedState(state: unknown): unknown {
  if (typeof state !== "string") return state;
  try {
    JSON.parse(state);
  } catch {
    throw new ProblemError(400, "state must be JSON");
  }
  return state;
}

export function workflowRoutes(d: WorkflowDeps) {
  const { workflowStart: START, workflowResume: RESUME, workflowCheckpoint: CHECKPOINT } = CONTROL_PLANE_API;
  const RELEASE = CONTROL_PLANE_API.workflowRelease;
  const bad = "invalid JSON body";
  /** The handlers of a JSON request at `route` that `act` carries out; its answer is an empty 204. */
  const answered = <S extends v.GenericSchema>(
    route: AnyRoute & { body: S },
    summary: string,
    act: (req: v.InferOutput<S>) => Promise<void>,
  ) => answered204(createFactory(), doc(route, summary, []), route.body, bad, (_c, req) => act(req));
  return new Hono()
    .use("/v1/workflow/*", runnerToken(d.token))
    .post(
      START.pattern,
      doc(START, "Take a task's workflow lease", [404, 409]),
      validated("json", START.body, bad),
      async (c) => {
        const req = c.req.valid("json");
        if (!req.task_id.trim() || !req.holder_id.trim()) throw new ProblemError(400, "task_id and holder_id required");
        const taskId = await existingTask(d.db, req.task_id);
        const lease = await takeLease(d.db, {
          taskId,
          holderId: req.holder_id,
          key: req.idempotency_key,
          ttlSeconds: req.expires_in_sec,
          now: d.now(),
        });
        if (lease.status === "conflict") throw new ProblemError(409, "lease held by another workflow runner");
        d.log.info("workflow lease", { task_id: taskId, holder_id: req.holder_id, status: lease.status });
        return c.json({ run_id: lease.leaseId, lease_id: lease.leaseId, status: lease.status });
      },
    )
    .post(
      RESUME.pattern,
      doc(RESUME, "A task's last checkpoint", [404]),
      validated("json", RESUME.body, bad),
      async (c) => {
        const taskId = taskUuid(c.req.valid("json").task_id);
        const cp = await checkpointOf(d.db, taskId);
        if (!cp) throw new ProblemError(404, "no checkpoint for task");
        const body: WorkflowResumeResponse = {
          task_id: taskId,
          ...(cp.state !== null ? { state: cp.state } : {}),
          ...(cp.last_node_id ? { last_node_id: cp.last_node_id } : {}),
          updated_at: rfc3339(cp.updated_at),
        };
        return c.json(body);
      },
    )
    .post(
      CHECKPOINT.pattern,
      ...answered(CHECKPOINT, "Store a task's checkpoint (upsert)", async (req) => {
        await saveCheckpoint(d.db, taskUuid(req.task_id), checkedState(req.state), req.last_node_id ?? "");
      }),
    )
    .post(
      RELEASE.pattern,
      ...answered(RELEASE, "Release a task's lease (always 204)", async (req) => {
        if (!req.task_id.trim()) throw new ProblemError(400, "task_id required");
        if (!req.lease_id.trim()) throw new ProblemError(400, "lease_id required");
        if (isUuid(req.task_id)) await releaseLease(d.db, req.task_id.toLowerCase(), req.lease_id);
      }),
    );
}
