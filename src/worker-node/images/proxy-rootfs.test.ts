import { afterAll, describe, expect, it } from "bun:test";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROXY_CONTAINERFILE, parseLdd, stageProxyRootfs } from "./proxy-rootfs";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("parseLdd", () => {
  it("lists resolved libraries and the loader, not the vDSO", () => {
    const out = [
      "\tlinux-vdso.so.1 (0x00007ffd)",
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f00)",
      "\t/lib64/ld-linux-x86-64.so.2 (0x00007f01)",
    ].join("\n");
    expect(parseLdd(out)).toEqual(["/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"]);
  });

  it("fails on a missing library", () => {
    expect(() => parseLdd("\tlibfoo.so.1 => not found\n")).toThrow(
      "missing shared libraries: libfoo.so.1 => not found",
    );
  });
});

describe("stageProxyRootfs", () => {
  it("copies a binary to /inference-proxy with the libraries it links at their own paths", async () => {
    const root = await mkdtemp(join(tmpdir(), "cynode-proxy-rootfs-"));
    dirs.push(root);
    const libraries = await stageProxyRootfs({ binary: process.execPath, rootDir: root });
    expect(libraries.some((l) => l.includes("libc.so"))).toBe(true);
    expect(((await stat(join(root, "inference-proxy"))).mode & 0o777).toString(8)).toBe("755");
    for (const lib of libraries) expect((await stat(join(root, lib))).isFile()).toBe(true);
  });

  it("says why when ldd fails", async () => {
    const root = await mkdtemp(join(tmpdir(), "cynode-proxy-rootfs-"));
    dirs.push(root);
    await expect(stageProxyRootfs({ binary: join(root, "absent"), rootDir: root })).rejects.toThrow("ldd");
  });

  it("embeds the sidecar's Containerfile", () => {
    expect(PROXY_CONTAINERFILE).toContain('ENTRYPOINT ["/inference-proxy"]');
  });
});
