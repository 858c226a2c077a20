import { describe, expect, it } from "bun:test";
import { mkdtemp, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureWritableDir } from "./writable-dir";

describe("ensureWritableDir", () => {
  it("creates a missing directory, private to the node", async () => {
    const dir = join(await mkdtemp(join(tmpdir(), "cynode-dir-")), "a", "b");
    await ensureWritableDir(dir, "state dir");
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  it("names the directory and what it is for when it cannot be written", async () => {
    await expect(ensureWritableDir("/proc/cynode-state", "sandbox mount root")).rejects.toThrow(
      "sandbox mount root /proc/cynode-state is not writable: ",
    );
  });
});
