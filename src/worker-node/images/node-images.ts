/**
 * The worker node's start-up image step: the sandbox image and (inference not disabled) the inference-proxy
 * sidecar image are built here when missing or — compiled binary — built by another version. A compiled node needs
 * nothing but itself, podman and, for inference, the `inference-proxy` executable of the same build beside it.
 */
import { access, constants, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { NodeConfig } from "../config";
import type { Podman } from "../sandbox/podman";
import { busyboxBlob, caBundleBlob } from "./busybox";
import { ensureImage, type Freshness } from "./ensure-image";
import { PROXY_CONTAINERFILE, stageProxyRootfs } from "./proxy-rootfs";
import { SANDBOX_CONTAINERFILE, stageSandboxRootfs } from "./sandbox-rootfs";

export type NodeImagesOptions = {
  config: NodeConfig;
  podman: Podman;
  log: (line: string) => void;
  /** Compiled: this build's version, which labels the images; absent from source (only missing images are built). */
  version?: string;
  /** The worker-node executable; a compiled node looks for `inference-proxy` beside it. */
  execPath?: string;
  /** From source: compiles the inference-proxy to `outfile` (a compiled node copies its sibling instead). */
  compileProxy?: (outfile: string) => Promise<void>;
  /** Files embedded in the executable (tests pass their own). */
  files?: readonly Blob[];
};

export class MissingProxyError extends Error {}

/** Where the proxy executable is expected: the config's `inference.proxy_binary`, else beside worker-node. */
export const proxyBinaryPath = (config: NodeConfig, execPath = process.execPath) =>
  config.inference.proxy_binary ?? join(dirname(execPath), "inference-proxy");

async function proxyBinary(o: NodeImagesOptions, work: string): Promise<string> {
  if (o.compileProxy && !o.config.inference.proxy_binary) {
    const out = join(work, "inference-proxy");
    await o.compileProxy(out);
    return out;
  }
  const path = proxyBinaryPath(o.config, o.execPath);
  if (
    await access(path, constants.X_OK).then(
      () => true,
      () => false,
    )
  )
    return path;
  throw new MissingProxyError(
    `inference is enabled (inference.mode: ${o.config.inference.mode}) but the inference-proxy executable ${path} is missing: copy inference-proxy from the same build to ${path} (or name it with inference.proxy_binary / INFERENCE_PROXY_BINARY), or set inference.mode: disabled`,
  );
}

/** The sandbox image's build context, exactly as `just images` stages it (the same contents hash the same). */
export async function stageSandboxContext(
  contextDir: string,
  o: { log: (line: string) => void; files?: readonly Blob[] },
): Promise<void> {
  await writeFile(join(contextDir, "Containerfile"), SANDBOX_CONTAINERFILE);
  await stageSandboxRootfs({
    rootDir: join(contextDir, "rootfs"),
    busybox: await busyboxBlob({ log: o.log, files: o.files }),
    caBundle: await caBundleBlob({ files: o.files }),
    log: o.log,
  });
}

export async function ensureNodeImages(o: NodeImagesOptions): Promise<void> {
  const freshness: Freshness = o.version ? { version: o.version } : "present";
  await ensureImage({
    podman: o.podman,
    image: o.config.sandbox.default_image,
    freshness,
    log: o.log,
    stage: (contextDir) => stageSandboxContext(contextDir, o),
  });
  if (o.config.inference.mode === "disabled") return;
  await ensureImage({
    podman: o.podman,
    image: o.config.inference.proxy_image,
    freshness,
    log: o.log,
    stage: async (contextDir) => {
      // The binary is compiled outside the context so podman is not sent it twice.
      const work = await mkdtemp(join(tmpdir(), "cynode-inference-proxy-"));
      try {
        await writeFile(join(contextDir, "Containerfile"), PROXY_CONTAINERFILE);
        const binary = await proxyBinary(o, work);
        const libraries = await stageProxyRootfs({ binary, rootDir: join(contextDir, "rootfs") });
        o.log(`staged ${binary} with ${libraries.join(", ")}`);
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },
  });
}
