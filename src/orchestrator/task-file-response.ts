/** A stored task file as an HTTP answer: its bytes, type, length and `Repr-Digest`, for the node and the user alike. */
import { DIGEST_HEADER, digestHeader } from "../contracts/task-files";
import type { StoredTaskFile } from "./db/task-files";

/** `headers` adds to the file's own (e.g. a `content-disposition`). */
export async function taskFileResponse(file: StoredTaskFile, headers: Record<string, string> = {}): Promise<Response> {
  return new Response(await file.bytes(), {
    headers: {
      "content-type": file.content_type,
      "content-length": String(file.size_bytes),
      [DIGEST_HEADER]: digestHeader(file.sha256),
      ...headers,
    },
  });
}
