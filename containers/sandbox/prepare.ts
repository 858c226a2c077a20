/**
 * build-image.ts hook for the sandbox: stages the root filesystem the way the worker node does
 * (src/worker-node/images/sandbox-rootfs.ts) with Debian's static busybox and the host's CA bundle.
 */
import { join } from "node:path";
import { busyboxBlob, caBundleBlob } from "../../src/worker-node/images/busybox";
import { stageSandboxRootfs } from "../../src/worker-node/images/sandbox-rootfs";

export async function prepare({ contextDir, log }: { contextDir: string; log: (line: string) => void }): Promise<void> {
  await stageSandboxRootfs({
    rootDir: join(contextDir, "rootfs"),
    busybox: await busyboxBlob({ log }),
    caBundle: await caBundleBlob(),
    log,
  });
}
