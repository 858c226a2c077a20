/**
 * Per-sandbox host directories under the sandbox mount root: `<root>/<id>/io` holds the sandbox's FIFOs and its
 * launcher (sandbox-io.ts), `<root>/<id>/run` an inference pod's shared socket directory. Private to the node
 * (0700), removed after the sandbox. The job's /workspace is not here: it is a tmpfs podman gives the container.
 */
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";

/** Job ids become path segments and container names, so only a conservative alphabet is accepted. */
export const SAFE_JOB_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export type JobDirs = { root: string; io: string; remove(): Promise<void> };

export async function createJobDirs(mountRoot: string, jobId: string): Promise<JobDirs> {
  if (!SAFE_JOB_ID.test(jobId)) throw new Error(`unsafe job id: ${jobId}`);
  const root = join(mountRoot, jobId);
  await mkdir(mountRoot, { recursive: true, mode: 0o700 });
  await rm(root, { recursive: true, force: true });
  const io = join(root, "io");
  await mkdir(io, { recursive: true, mode: 0o700 });
  return { root, io, remove: () => rm(root, { recursive: true, force: true }) };
}

/** Removes what a previous run of the node left under the mount root; returns how many there were. */
export async function removeStaleJobDirs(mountRoot: string): Promise<number> {
  const entries = await readdir(mountRoot).catch(() => [] as string[]);
  await Promise.all(entries.map((e) => rm(join(mountRoot, e), { recursive: true, force: true })));
  return entries.length;
}
