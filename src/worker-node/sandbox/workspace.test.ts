import { describe, expect, it } from "bun:test";
import { mkdtemp, readdir, stat, statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createJobDirs, mountsUnder, removeStaleJobDirs } from "./workspace";

describe("job directories", () => {
  it("creates a private workspace per job and removes it", async () => {
    const root = join(await mkdtemp(join(tmpdir(), "cynode-ws-")), "mounts");
    const dirs = await createJobDirs(root, "job-1");
    expect(dirs.workspace).toBe(join(root, "job-1", "workspace"));
    expect((await stat(dirs.workspace)).mode & 0o777).toBe(0o700);
    await Bun.write(join(dirs.workspace, "out.txt"), "x");
    await dirs.remove();
    await expect(Bun.file(join(dirs.workspace, "out.txt")).exists()).resolves.toBe(false);
  });

  it("refuses job ids that could escape the mount root", async () => {
    await expect(createJobDirs("/tmp/x", "../etc")).rejects.toThrow("unsafe job id");
    await expect(createJobDirs("/tmp/x", "a/b")).rejects.toThrow("unsafe job id");
  });

  it("clears leftovers from a previous run", async () => {
    const root = await mkdtemp(join(tmpdir(), "cynode-ws-"));
    await createJobDirs(root, "a");
    await createJobDirs(root, "b");
    expect(await removeStaleJobDirs(root)).toBe(2);
    expect(await removeStaleJobDirs(join(root, "missing"))).toBe(0);
  });
});

describe("workspace quota", () => {
  it("mounts a tmpfs of the quota's size on the workspace and unmounts it on removal and at start-up", async () => {
    const root = join(await mkdtemp(join(tmpdir(), "cynode-ws-")), "mounts");
    const dirs = await createJobDirs(root, "job-q", 8);
    expect(await mountsUnder(root)).toEqual([dirs.workspace]);
    const fs = await statfs(dirs.workspace);
    expect(fs.blocks * fs.bsize).toBe(8 * 1024 * 1024);
    await dirs.remove();
    expect(await mountsUnder(root)).toEqual([]);
    await createJobDirs(root, "left-a", 4);
    await createJobDirs(root, "left-b", 4);
    expect(await removeStaleJobDirs(root)).toBe(2);
    expect(await mountsUnder(root)).toEqual([]);
    expect(await readdir(root)).toEqual([]);
  });
});
