/** Per-job host directories under the sandbox mount root: `<root>/<job_id>/workspace`, private and removed after the job. */
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";

/** Job ids become path segments and container names, so only a conservative alphabet is accepted. */
export const SAFE_JOB_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export type JobDirs = { workspace: string; remove(): Promise<void> };

export async function createJobDirs(mountRoot: string, jobId: string): Promise<JobDirs> {
  if (!SAFE_JOB_ID.test(jobId)) throw new Error(`unsafe job id: ${jobId}`);
  const root = join(mountRoot, jobId);
  await rm(root, { recursive: true, force: true });
  const workspace = join(root, "workspace");
  await mkdir(mountRoot, { recursive: true, mode: 0o700 });
  await mkdir(workspace, { recursive: true, mode: 0o700 });
  return { workspace, remove: () => rm(root, { recursive: true, force: true }) };
}

/** Removes job directories left behind by a previous run of the node; returns how many there were. */
export async function removeStaleJobDirs(mountRoot: string): Promise<number> {
  const entries = await readdir(mountRoot).catch(() => [] as string[]);
  await Promise.all(entries.map((e) => rm(join(mountRoot, e), { recursive: true, force: true })));
  return entries.length;
}
