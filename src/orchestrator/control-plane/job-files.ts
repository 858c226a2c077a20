/**
 * A node's side of a job's files (decision 23), with its node JWT and only for a job it runs now (anything else is
 * 404): the job's attachments, fetched one by one into its `/workspace`, and each artifact the job left, stored with
 * its task as a raw body bounded by the artifact cap while it streams in.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { CONTROL_PLANE_API } from "../../contracts/routes";
import { contentTypeOf, FILE_LIMITS, safeFileName } from "../../contracts/task-files";
import { limitBody } from "../../lib/api-app";
import { ProblemError } from "../../lib/http-problem";
import { describeRoute } from "../../lib/openapi";
import type { Db } from "../db/connect";
import { readTaskFile, runningJobTask, storeArtifact } from "../db/task-files";
import type { Tokens } from "../auth/tokens";
import { taskFileResponse } from "../task-file-response";
import { requireNode, type NodeAuthEnv } from "./node-auth";

export type JobFilesDeps = { db: Db; tokens: Tokens; maxArtifactBytes?: number };

const { jobAttachment: GET, jobArtifact: PUT } = CONTROL_PLANE_API;
const tags = ["jobs"];
const ARTIFACT_PATH = /^\/v1\/nodes\/jobs\/[^/]+\/artifacts\/[^/]+$/;

/** The control-plane's body limit, except on an artifact upload: the artifact cap. */
export function jobFilesBodyLimit(maxBodyBytes: number, maxArtifactBytes?: number): MiddlewareHandler {
  const other = limitBody(maxBodyBytes);
  const artifact = limitBody(maxArtifactBytes ?? FILE_LIMITS.maxArtifactBytes);
  return (c, next) =>
    c.req.method === PUT.method && ARTIFACT_PATH.test(c.req.path) ? artifact(c, next) : other(c, next);
}

async function taskOfJob(db: Db, jobId: string, nodeId: string): Promise<string> {
  const taskId = await runningJobTask(db, jobId, nodeId);
  if (!taskId) throw new ProblemError(404, "No such job running on this node");
  return taskId;
}

function fileName(name: string): string {
  const safe = safeFileName(name);
  if (!safe) throw new ProblemError(400, "not a safe file name");
  return safe;
}

export function jobFileRoutes(d: JobFilesDeps) {
  return new Hono<NodeAuthEnv>()
    .use(GET.pattern, requireNode(d.tokens))
    .use(PUT.pattern, requireNode(d.tokens))
    .get(
      GET.pattern,
      describeRoute(GET, {
        summary: "An attachment of a job this node runs",
        tags,
        responses: { 200: { contentType: "application/octet-stream", description: "The attachment" } },
        problems: [400, 401, 404],
      }),
      async (c) => {
        const taskId = await taskOfJob(d.db, c.req.param("job_id"), c.get("node").node_id);
        const file = await readTaskFile(d.db, taskId, "attachment", fileName(c.req.param("name")));
        if (!file) throw new ProblemError(404, "No such attachment");
        return taskFileResponse(file);
      },
    )
    .post(
      PUT.pattern,
      describeRoute(PUT, {
        summary: "Store one artifact a job this node runs left (raw body)",
        tags,
        requestContent: { "application/octet-stream": { type: "string", format: "binary" } },
        problems: [400, 401, 404, 413],
      }),
      async (c) => {
        const jobId = c.req.param("job_id");
        const taskId = await taskOfJob(d.db, jobId, c.get("node").node_id);
        const name = fileName(c.req.param("name"));
        const data = new Uint8Array(await c.req.arrayBuffer());
        const type = c.req.header("content-type")?.split(";")[0] || contentTypeOf(name);
        return c.json(await storeArtifact(d.db, taskId, jobId, { name, data, contentType: type }), 201);
      },
    );
}
