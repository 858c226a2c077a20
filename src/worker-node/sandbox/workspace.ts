/**
 * Per-job host directories under the sandbox mount root: `<root>/<job_id>/workspace`, private and removed after the
 * job. The workspace is a size-limited tmpfs (the disk quota, `sandbox.resources.max_disk_mb`): a mount needs no
 * image, no loop device and no mkfs per job, never touches the host's disk, and its pages are charged to the memory
 * cgroup of the container that writes them, so a full workspace counts against the job's memory limit too.
 */
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";

/** Job ids become path segments and container names, so only a conservative alphabet is accepted. */
export const SAFE_JOB_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export type JobDirs = { workspace: string; remove(): Promise<void> };

async function run(argv: string[]): Promise<void> {
  const p = Bun.spawn(argv, { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${argv[0]} failed: ${err.trim()}`);
}

export const mountTmpfs = (dir: string, sizeMb: number) =>
  run(["mount", "-t", "tmpfs", "-o", `size=${sizeMb}m,mode=0700,nosuid,nodev`, "tmpfs", dir]);
/** Lazy: a mount still held by a dying container goes away once that container is gone. */
export const unmount = (dir: string) => run(["umount", "--lazy", dir]);

/** Mount points at or under `root` (deepest first), from this process's mount table. */
export async function mountsUnder(root: string): Promise<string[]> {
  const table = await readFile("/proc/self/mountinfo", "utf8");
  const base = root.replace(/\/+$/, "");
  return table
    .split("\n")
    .map((line) => line.split(" ")[4]?.replace(/\\040/g, " "))
    .filter((m): m is string => m === base || !!m?.startsWith(`${base}/`))
    .sort((a, b) => b.length - a.length);
}

export async function createJobDirs(mountRoot: string, jobId: string, diskMb?: number): Promise<JobDirs> {
  if (!SAFE_JOB_ID.test(jobId)) throw new Error(`unsafe job id: ${jobId}`);
  const root = join(mountRoot, jobId);
  await removeDir(root);
  const workspace = join(root, "workspace");
  await mkdir(mountRoot, { recursive: true, mode: 0o700 });
  await mkdir(workspace, { recursive: true, mode: 0o700 });
  if (diskMb) await mountTmpfs(workspace, diskMb);
  return { workspace, remove: () => removeDir(root) };
}

async function removeDir(dir: string): Promise<void> {
  for (const m of await mountsUnder(dir)) await unmount(m).catch(() => {});
  await rm(dir, { recursive: true, force: true });
}

/** Removes job directories left behind by a previous run of the node; returns how many there were. */
export async function removeStaleJobDirs(mountRoot: string): Promise<number> {
  const entries = await readdir(mountRoot).catch(() => [] as string[]);
  await Promise.all(entries.map((e) => removeDir(join(mountRoot, e))));
  return entries.length;
}
