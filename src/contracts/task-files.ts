/**
 * Files in and out of jobs (decision 23): attachments uploaded with a task land in its job's `/workspace` under
 * their names; what a job leaves in `/job/artifacts` comes back as its task's artifacts. The names both sides accept,
 * the default bounds and the payloads the gateway, the control-plane, the node and cynork share.
 */
import * as v from "valibot";

const MiB = 1024 * 1024;
/** Bounds unless configured otherwise (the reference's for attachments). */
export const FILE_LIMITS = { maxAttachments: 16, maxAttachmentBytes: 10 * MiB, maxArtifactBytes: 100 * MiB };
/** Where a job leaves its artifacts, and the variable that names it (the reference's). */
export const ARTIFACTS_DIR = "/job/artifacts";
export const ARTIFACTS_DIR_ENV = "CYNODE_ARTIFACTS_DIR";
/** The header of a downloaded file's digest (RFC 9530). */
export const DIGEST_HEADER = "repr-digest";
/** The multipart part that carries the CreateTaskRequest JSON; files are parts named `file`. */
export const TASK_PART = "task";
export const FILE_PART = "file";

const MAX_NAME_BYTES = 255;
const UNSAFE = /[\u0000-\u001f\u007f/\\]/;

/** A file name as stored and placed: one path segment, no control character, not `.` or `..`; else undefined. */
export function safeFileName(name: string): string | undefined {
  if (!name || name === "." || name === ".." || UNSAFE.test(name)) return undefined;
  return new TextEncoder().encode(name).length <= MAX_NAME_BYTES ? name : undefined;
}

const TYPES: Record<string, string> = {
  csv: "text/csv",
  txt: "text/plain",
  log: "text/plain",
  md: "text/markdown",
  json: "application/json",
  html: "text/html",
  xml: "application/xml",
  pdf: "application/pdf",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  svg: "image/svg+xml",
  zip: "application/zip",
  gz: "application/gzip",
  tar: "application/x-tar",
};

/** The content type a file is served with, by its extension. */
export const contentTypeOf = (name: string): string =>
  TYPES[name.slice(name.lastIndexOf(".") + 1).toLowerCase()] ?? "application/octet-stream";

/** `sha-256=:<base64>:` for the digest header. */
export const digestHeader = (sha256Hex: string) => `sha-256=:${Buffer.from(sha256Hex, "hex").toString("base64")}:`;

const FileName = v.pipe(
  v.string(),
  v.check((n) => safeFileName(n) !== undefined, "not a safe file name"),
);

/** One stored file of a task, as listed. */
export const TaskFileView = v.object({
  name: FileName,
  size_bytes: v.pipe(v.number(), v.integer(), v.minValue(0)),
  sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  content_type: v.string(),
});
/** `GET /v1/tasks/{id}/artifacts`. */
export const ListArtifactsResponse = v.object({ task_id: v.string(), artifacts: v.array(TaskFileView) });

/** What a job left that was not collected, and why (the artifact cap, an unsafe name, not a regular file). */
export const OmittedArtifact = v.object({ name: v.string(), size_bytes: v.optional(v.number()), reason: v.string() });

export type TaskFileView = v.InferOutput<typeof TaskFileView>;
export type ListArtifactsResponse = v.InferOutput<typeof ListArtifactsResponse>;
export type OmittedArtifact = v.InferOutput<typeof OmittedArtifact>;
