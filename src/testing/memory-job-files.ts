/** TEST SUPPORT: the control-plane's side of a job's files, kept in memory: what the node fetched and stored. */
import type { TaskFileView } from "../contracts/task-files";
import type { JobFiles } from "../worker-node/sandbox/job-files";

export const sha256Hex = (d: Uint8Array | string) => new Bun.CryptoHasher("sha256").update(d).digest("hex");

export function memoryFiles(attachments: Record<string, Uint8Array>) {
  const stored = new Map<string, Uint8Array>();
  const files: JobFiles = {
    fetchAttachment: async (_job, name) => attachments[name] ?? new Uint8Array(),
    async storeArtifact(_job, name, data, content_type): Promise<TaskFileView> {
      stored.set(name, data);
      return { name, size_bytes: data.length, sha256: sha256Hex(data), content_type };
    },
  };
  return { files, stored };
}

/** The job's references to its attachments (name, size and digest). */
export const attachmentRefs = (attachments: Record<string, Uint8Array>) =>
  Object.entries(attachments).map(([name, d]) => ({ name, size_bytes: d.length, sha256: sha256Hex(d) }));
