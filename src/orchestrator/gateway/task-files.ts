/**
 * A task's artifacts for its owner (decision 23): the listing and each file's bytes, with its length, content type
 * and `Repr-Digest` (sha-256). Another user's task, a task without that artifact and an unsafe name are all 404.
 */
import { Hono } from "hono";
import { USER_API, USER_API_SCOPES } from "../../contracts/routes";
import { type ListArtifactsResponse, safeFileName } from "../../contracts/task-files";
import { ProblemError } from "../../lib/http-problem";
import { describeRoute } from "../../lib/openapi";
import { listTaskFiles, readTaskFile } from "../db/task-files";
import { findTask } from "../db/tasks";
import { taskFileResponse } from "../task-file-response";
import { requireUser, type GatewayEnv, type GatewayRouteDeps } from "./require-user";

const tags = ["tasks"];
const { taskArtifacts: LIST, taskArtifact: GET } = USER_API;

/** The caller's own task, else 404 (whether it exists for someone else is not told). */
async function ownTaskId(d: GatewayRouteDeps, userId: string, idOrName: string): Promise<string> {
  const found = await findTask(d.db, userId, idOrName);
  if ("error" in found) throw new ProblemError(404, "Task not found");
  return found.task.id;
}

async function list(d: GatewayRouteDeps, userId: string, id: string): Promise<ListArtifactsResponse> {
  const taskId = await ownTaskId(d, userId, id);
  return { task_id: taskId, artifacts: await listTaskFiles(d.db, taskId, "artifact") };
}

async function download(d: GatewayRouteDeps, userId: string, id: string, name: string): Promise<Response> {
  const taskId = await ownTaskId(d, userId, id);
  const file = safeFileName(name) && (await readTaskFile(d.db, taskId, "artifact", name));
  if (!file) throw new ProblemError(404, "Artifact not found");
  return taskFileResponse(file, {
    "content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(file.name)}`,
  });
}

export function taskFileRoutes(d: GatewayRouteDeps) {
  return new Hono<GatewayEnv>()
    .use(USER_API_SCOPES.tasks, requireUser(d.tokens))
    .get(
      LIST.pattern,
      describeRoute(LIST, {
        summary: "A task's artifacts: name, size, sha256, content type",
        tags,
        problems: [401, 404],
      }),
      async (c) => c.json(await list(d, c.get("user").id, c.req.param("id"))),
    )
    .get(
      GET.pattern,
      describeRoute(GET, {
        summary: "One artifact's bytes (Content-Length, Repr-Digest)",
        tags,
        responses: { 200: { contentType: "application/octet-stream", description: "The artifact" } },
        problems: [401, 404],
      }),
      async (c) => download(d, c.get("user").id, c.req.param("id"), c.req.param("name")),
    );
}
