import { afterAll, describe, expect, it } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  busyboxBlob,
  caBundleBlob,
  EMBEDDED_BUSYBOX,
  EMBEDDED_CA_BUNDLE,
  embeddedFile,
  run,
  staticBusybox,
} from "./busybox";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
const named = (name: string, text: string) => Object.assign(new Blob([text]), { name });

describe("staticBusybox", () => {
  it("fetches busybox-static with apt once into its cache", async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), "cynode-bb-"));
    dirs.push(cacheDir);
    const lines: string[] = [];
    const path = await staticBusybox({ cacheDir, log: (l) => lines.push(l), preferHost: false });
    expect(path).toBe(join(cacheDir, "bin", "busybox"));
    expect(await staticBusybox({ cacheDir, log: (l) => lines.push(l), preferHost: false })).toBe(path);
    expect(lines).toEqual(["fetching busybox-static with apt-get download"]);
  });
});

describe("busybox and CA bundle sources", () => {
  it("prefers the embedded busybox, else the host's", async () => {
    const files = [named(EMBEDDED_BUSYBOX, "embedded")];
    expect(await (await busyboxBlob({ log: () => {}, files })).text()).toBe("embedded");
    const host = await busyboxBlob({ log: () => {}, files: [] });
    expect(host.size).toBeGreaterThan(500_000);
  });

  it("prefers the host's CA bundle, else the embedded one, else says what to install", async () => {
    const files = [named(EMBEDDED_CA_BUNDLE, "embedded certs")];
    expect((await caBundleBlob({ files })).size).toBeGreaterThan(1000);
    const absent = join(tmpdir(), `no-such-bundle-${process.pid}`);
    expect(await (await caBundleBlob({ hostPath: absent, files })).text()).toBe("embedded certs");
    await expect(caBundleBlob({ hostPath: absent, files: [] })).rejects.toThrow("apt-get install ca-certificates");
  });

  it("reports a command that cannot start as failed", () => {
    expect(run([join(tmpdir(), `no-such-command-${process.pid}`)])).toMatchObject({ ok: false });
  });

  it("finds an embedded file by name only", () => {
    expect(embeddedFile("x", [named("y", "")])).toBeUndefined();
    expect(embeddedFile(EMBEDDED_BUSYBOX)).toBeUndefined(); // running from source: nothing is embedded
  });
});
