/**
 * Downloads of a task's artifacts: each is streamed into its file in the target directory under its own name (one
 * path segment, checked again here), then its sha-256 is checked against the listing; a mismatch is an error.
 */
import { rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { safeFileName, type TaskFileView } from "../../../../contracts/task-files";
import { CliError, EXIT } from "../../../errors";
import type { GatewayClient } from "../../../gateway-client";
import type { TableSpec } from "../../../render";

export const ARTIFACT_LINE: TableSpec = { keys: ["name", "size_bytes", "sha256", "content_type", "path"] };

async function sha256Of(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

/** Writes one artifact to `dir` (through a temporary name, so a failed download leaves no file behind). */
export async function download(
  client: GatewayClient,
  taskId: string,
  file: TaskFileView,
  dir: string,
): Promise<TaskFileView & { path: string }> {
  const name = safeFileName(file.name);
  if (!name) throw new CliError(EXIT.gateway, `unexpected artifact name from gateway: ${JSON.stringify(file.name)}`);
  const path = join(dir, name);
  const partial = `${path}.part`;
  await Bun.write(partial, await client.taskArtifact(taskId, name));
  if ((await sha256Of(partial)) !== file.sha256) {
    await rm(partial, { force: true });
    throw new CliError(EXIT.gateway, `artifact ${name}: the download does not match its sha256`);
  }
  await rename(partial, path);
  return { ...file, path };
}
