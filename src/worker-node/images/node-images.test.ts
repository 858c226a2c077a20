import { afterAll, describe, expect, it } from "bun:test";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadNodeConfig, type NodeConfig } from "../config";
import { testPodman } from "../../testing/sandbox-fixture";
import { prepare } from "../../../containers/sandbox/prepare";
import { EMBEDDED_BUSYBOX } from "./busybox";
import { hashTree, imageLabels, VERSION_LABEL } from "./ensure-image";
import { ensureNodeImages, MissingProxyError, proxyBinaryPath, stageSandboxContext } from "./node-images";

const podman = testPodman();
const tag = `${process.pid}-${crypto.randomUUID().slice(0, 6)}`;
const sandboxImage = `localhost/cynode-sandbox-imagetest-${tag}:latest`;
const proxyImage = `localhost/cynode-inference-proxy-imagetest-${tag}:latest`;
const dirs: string[] = [];
afterAll(async () => {
  await podman.exec(["rmi", "--force", sandboxImage, proxyImage]);
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function config(env: Record<string, string> = {}): Promise<NodeConfig> {
  return loadNodeConfig({
    env: { NODE_REGISTRATION_PSK: "psk", SANDBOX_IMAGE: sandboxImage, INFERENCE_PROXY_IMAGE: proxyImage, ...env },
    defaultPath: join(tmpdir(), `no-such-node-${tag}.yaml`),
  });
}

describe("stageSandboxContext", () => {
  it("stages what `just images` stages, so a node finds that image's contents current", async () => {
    const [node, repo] = [await mkdtemp(join(tmpdir(), "cynode-ctx-")), await mkdtemp(join(tmpdir(), "cynode-ctx-"))];
    dirs.push(node, repo);
    await stageSandboxContext(node, { log: () => {} });
    await copyFile(join(import.meta.dir, "../../../containers/sandbox/Containerfile"), join(repo, "Containerfile"));
    await prepare({ contextDir: repo, log: () => {} });
    expect(await hashTree(node)).toBe(await hashTree(repo));
  });
});

describe("ensureNodeImages: the sandbox image (real podman)", () => {
  it("builds the sandbox image when missing, and again when another version built other contents", async () => {
    const lines: string[] = [];
    const log = (l: string) => lines.push(l);
    const cfg = await config();
    cfg.inference.mode = "disabled";
    await ensureNodeImages({ config: cfg, podman, log, version: "1.0.0+aaa" });
    expect(lines).toContain(`building ${sandboxImage}: it is missing`);
    expect((await imageLabels(podman, sandboxImage))?.[VERSION_LABEL]).toBe("1.0.0+aaa");
    expect(await imageLabels(podman, proxyImage)).toBeUndefined(); // inference disabled: no sidecar image

    lines.length = 0;
    await ensureNodeImages({ config: cfg, podman, log, version: "1.0.0+aaa" });
    expect(lines).toEqual([]); // its own version: not even staged
    await ensureNodeImages({ config: cfg, podman, log, version: "1.0.1+bbb" });
    expect(lines.at(-1)).toBe(`${sandboxImage} is up to date`); // another version, the same contents
    expect((await imageLabels(podman, sandboxImage))?.[VERSION_LABEL]).toBe("1.0.0+aaa");

    // Another version that carries another busybox (here: the same one with a byte appended) rebuilds the image.
    const busybox = new Blob([await Bun.file("/bin/busybox").arrayBuffer(), "\n"]);
    const files = [Object.assign(busybox, { name: EMBEDDED_BUSYBOX })];
    await ensureNodeImages({ config: cfg, podman, log, version: "1.0.2+ccc", files });
    expect(lines).toContain(`building ${sandboxImage}: it was built by version 1.0.0+aaa, this is 1.0.2+ccc`);
    expect((await imageLabels(podman, sandboxImage))?.[VERSION_LABEL]).toBe("1.0.2+ccc");

    const r = await podman.exec([
      "run",
      "--rm",
      "--network=none",
      sandboxImage,
      "sh",
      "-c",
      "command -v cynode-prompt",
    ]);
    expect(r).toMatchObject({ exitCode: 0, stdout: "/usr/local/bin/cynode-prompt\n" });
  }, 120_000);
});

describe("ensureNodeImages: the sidecar image (real podman)", () => {
  it("fails fast, naming the file to copy where, when inference is enabled and the proxy executable is missing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cynode-node-dir-"));
    dirs.push(dir);
    const cfg = await config();
    const execPath = join(dir, "worker-node");
    expect(proxyBinaryPath(cfg, execPath)).toBe(join(dir, "inference-proxy"));
    const attempt = ensureNodeImages({ config: cfg, podman, log: () => {}, version: "1.0.1+bbb", execPath });
    await expect(attempt).rejects.toBeInstanceOf(MissingProxyError);
    await expect(attempt).rejects.toThrow(
      `inference is enabled (inference.mode: allow) but the inference-proxy executable ${join(dir, "inference-proxy")} is missing: copy inference-proxy from the same build to ${join(dir, "inference-proxy")}`,
    );
    expect(await imageLabels(podman, proxyImage)).toBeUndefined();
  });

  it("builds the sidecar image from the executable beside worker-node, or from a compiled one from source", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cynode-node-dir-"));
    dirs.push(dir);
    await copyFile("/bin/true", join(dir, "inference-proxy")); // any dynamically linked executable stages the same way
    const lines: string[] = [];
    const cfg = await config();
    await ensureNodeImages({
      config: cfg,
      podman,
      log: (l) => lines.push(l),
      version: "1.0.1+bbb",
      execPath: join(dir, "worker-node"),
    });
    expect(lines).toContain(`building ${proxyImage}: it is missing`);
    expect(lines.some((l) => l.startsWith(`staged ${join(dir, "inference-proxy")} with `))).toBe(true);
    expect((await podman.exec(["run", "--rm", "--network=none", proxyImage])).exitCode).toBe(0);

    // From source: only a missing image is built, from the proxy the caller compiles.
    await podman.exec(["rmi", "--force", proxyImage]);
    const compiled: string[] = [];
    const compileProxy = async (out: string) => {
      compiled.push(out);
      await copyFile("/bin/false", out);
    };
    await ensureNodeImages({ config: cfg, podman, log: () => {}, compileProxy });
    await ensureNodeImages({ config: cfg, podman, log: () => {}, compileProxy });
    expect(compiled.length).toBe(1);
    expect((await podman.exec(["run", "--rm", "--network=none", proxyImage])).exitCode).toBe(1);
  }, 120_000);
});
