/**
 * Attachments uploaded with a task (decision 23): `POST /v1/tasks` as `multipart/form-data`, a `task` part holding the
 * CreateTaskRequest JSON and one `file` part per attachment (its filename is its name in the job's `/workspace`).
 * The body is bounded while it streams in (`uploadBodyLimit`): never more than the attachments' bound (plus a
 * margin for the task and the framing) is read. A JSON body is validated as before, so reference clients that send
 * `attachments` as path strings keep working.
 */
import type { Context, MiddlewareHandler, Next } from "hono";
import * as v from "valibot";
import { FILE_LIMITS, FILE_PART, safeFileName, TASK_PART } from "../../contracts/task-files";
import { USER_API } from "../../contracts/routes";
import type { CreateTaskRequest } from "../../contracts/user-api";
import { limitBody } from "../../lib/api-app";
import { BAD_REQUEST_BODY, ProblemError } from "../../lib/http-problem";
import { markValidator } from "../../lib/openapi";
import { validated } from "../../lib/validate";
import type { NewTaskFile } from "../db/task-files";
import type { GatewayEnv } from "./require-user";

export type AttachmentLimits = { maxAttachments: number; maxAttachmentBytes: number };
export type UploadEnv = GatewayEnv & { Variables: { uploads: NewTaskFile[] } };

/** What the task part and the multipart framing may add to the files. */
const FRAMING_BYTES = 1024 * 1024;
const { createTask: CREATE } = USER_API;

export const attachmentLimits = (l: Partial<AttachmentLimits> = {}): AttachmentLimits => ({
  maxAttachments: l.maxAttachments ?? FILE_LIMITS.maxAttachments,
  maxAttachmentBytes: l.maxAttachmentBytes ?? FILE_LIMITS.maxAttachmentBytes,
});

const isMultipart = (c: Context) =>
  (c.req.header("content-type") ?? "").toLowerCase().startsWith("multipart/form-data");

/** The gateway's body limit, except on a multipart task create: the attachments' bound. */
export function uploadBodyLimit(maxBodyBytes: number, limits: AttachmentLimits): MiddlewareHandler {
  const tooLarge = () => new ProblemError(400, BAD_REQUEST_BODY);
  const json = limitBody(maxBodyBytes, tooLarge);
  const upload = limitBody(limits.maxAttachments * limits.maxAttachmentBytes + FRAMING_BYTES, tooLarge);
  return (c, next) =>
    c.req.method === CREATE.method && c.req.path === CREATE.pattern && isMultipart(c) ? upload(c, next) : json(c, next);
}

async function filesOf(form: FormData, limits: AttachmentLimits): Promise<NewTaskFile[]> {
  const parts = form.getAll(FILE_PART);
  if (parts.length > limits.maxAttachments)
    throw new ProblemError(400, `at most ${limits.maxAttachments} attachments are allowed`);
  const seen = new Set<string>();
  const files: NewTaskFile[] = [];
  for (const part of parts) {
    if (typeof part === "string") throw new ProblemError(400, `the ${FILE_PART} part must be a file`);
    const name = safeFileName(part.name);
    if (!name) throw new ProblemError(400, `attachment name is not a safe file name: ${JSON.stringify(part.name)}`);
    if (seen.has(name)) throw new ProblemError(400, `attachment ${name} is given twice`);
    if (part.size > limits.maxAttachmentBytes)
      throw new ProblemError(400, `attachment ${name} is larger than ${limits.maxAttachmentBytes} bytes`);
    seen.add(name);
    files.push({ name, data: new Uint8Array(await part.arrayBuffer()), contentType: part.type.split(";")[0] });
  }
  return files;
}

async function multipartTask(c: Context<UploadEnv>, limits: AttachmentLimits): Promise<CreateTaskRequest> {
  const form = await c.req.formData().catch(() => {
    throw new ProblemError(400, BAD_REQUEST_BODY);
  });
  const task = form.get(TASK_PART);
  const text = typeof task === "string" ? task : await task?.text();
  let body: unknown;
  try {
    body = JSON.parse(text ?? "");
  } catch {
    throw new ProblemError(400, `the ${TASK_PART} part must hold the task as JSON`);
  }
  const parsed = v.safeParse(CREATE.body, body);
  if (!parsed.success) throw new ProblemError(400, BAD_REQUEST_BODY);
  c.set("uploads", await filesOf(form, limits));
  return parsed.output;
}

/** The create body, JSON or multipart; the files land in `c.var.uploads` (none for JSON). */
export function createTaskBody(
  limits: AttachmentLimits,
): MiddlewareHandler<UploadEnv, string, { out: { json: CreateTaskRequest } }> {
  const json = validated("json", CREATE.body, BAD_REQUEST_BODY);
  const mw = async (c: Context<UploadEnv>, next: Next) => {
    c.set("uploads", []);
    if (!isMultipart(c)) return json(c as never, next);
    c.req.addValidatedData("json", await multipartTask(c, limits));
    await next();
  };
  return markValidator(mw, "json", CREATE.body);
}

/** The OpenAPI form of the multipart create. */
export const MULTIPART_CREATE_DOC = {
  "multipart/form-data": {
    type: "object",
    required: [TASK_PART],
    properties: {
      [TASK_PART]: { type: "string", description: "The CreateTaskRequest as JSON" },
      [FILE_PART]: {
        type: "array",
        items: { type: "string", format: "binary" },
        description: `Attachments (at most ${FILE_LIMITS.maxAttachments} of ${FILE_LIMITS.maxAttachmentBytes} bytes by default), placed in the job's /workspace under their file names`,
      },
    },
  },
};
