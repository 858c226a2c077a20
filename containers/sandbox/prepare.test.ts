import { describe, expect, it } from "bun:test";
import { lstat, mkdtemp, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepare } from "./prepare";

describe("sandbox prepare", () => {
  it("stages busybox applets, CA bundle, hosts, the prompt client and mount points", async () => {
    const contextDir = await mkdtemp(join(tmpdir(), "cynode-ctx-"));
    await prepare({ contextDir, log: () => {} });
    const root = join(contextDir, "rootfs");
    expect(await readlink(join(root, "bin", "tar"))).toBe("busybox");
    expect(await readlink(join(root, "usr", "bin"))).toBe("../bin");
    expect((await lstat(join(root, "etc/ssl/certs/ca-certificates.crt"))).size).toBeGreaterThan(1000);
    expect((await lstat(join(root, "run/cynode"))).isDirectory()).toBe(true);
    expect((await lstat(join(root, "tmp"))).mode & 0o7777).toBe(0o1777);
    expect(await Bun.file(join(root, "etc/hosts")).text()).toContain("127.0.0.1 localhost");
    expect((await lstat(join(root, "usr/local/bin/cynode-prompt"))).mode & 0o777).toBe(0o755);
    await rm(contextDir, { recursive: true, force: true });
  });
});
