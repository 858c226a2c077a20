import { describe, expect, it } from "bun:test";
import { mkdtemp, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createJobDirs, removeStaleJobDirs } from "./job-sandbox";

describe("job directories", () => {
  it("creates a private io directory per sandbox and removes it", async () => {
    const root = join(await mkdtemp(join(tmpdir(), "cynode-ws-")), "mounts");
    const dirs = await createJobDirs(root, "job-1");
    expect(dirs.io).toBe(join(root, "job-1", "io"));
    expect((await stat(root)).mode & 0o777).toBe(0o700);
    expect((await stat(dirs.io)).mode & 0o777).toBe(0o700);
    await Bun.write(join(dirs.io, "out.txt"), "x");
    await dirs.remove();
    await expect(Bun.file(join(dirs.io, "out.txt")).exists()).resolves.toBe(false);
    await expect(stat(dirs.root)).rejects.toThrow();
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
