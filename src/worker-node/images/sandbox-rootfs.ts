/**
 * Stages the sandbox root filesystem: static busybox with every applet as a symlink, a CA bundle,
 * passwd/group/hosts, empty mount points, and the prompt-mode client `cynode-prompt` in `/usr/local/bin`.
 * The Containerfile and the prompt client are embedded, so a compiled worker-node stages the same tree.
 */
import { chmod, mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import containerfile from "../../../containers/sandbox/Containerfile" with { type: "text" };
import promptClient from "../../../containers/sandbox/cynode-prompt" with { type: "text" };
import { HOST_CA_BUNDLE, run } from "./busybox";

export const SANDBOX_CONTAINERFILE = containerfile;

export async function stageSandboxRootfs(opts: {
  rootDir: string;
  busybox: Blob;
  caBundle: Blob;
  log: (line: string) => void;
}): Promise<void> {
  const root = opts.rootDir;
  for (const dir of ["bin", "usr/local/bin", "etc/ssl/certs", "workspace", "tmp", "run/cynode", "root"]) {
    await mkdir(join(root, dir), { recursive: true });
  }
  const busybox = join(root, "bin/busybox");
  await Bun.write(busybox, opts.busybox);
  await chmod(busybox, 0o755);
  await chmod(join(root, "tmp"), 0o1777);
  const list = run([busybox, "--list"]);
  if (!list.ok) throw new Error(`busybox does not run: ${list.out}`);
  const applets = list.out.split("\n").filter((a) => /^[\w.[-]+$/.test(a) && a !== "busybox");
  for (const applet of applets) await symlink("busybox", join(root, "bin", applet));
  for (const [link, target] of [
    ["sbin", "bin"],
    ["usr/bin", "../bin"],
    ["usr/sbin", "../bin"],
  ] as const)
    await symlink(target, join(root, link));
  await Bun.write(join(root, HOST_CA_BUNDLE), opts.caBundle);
  await writeFile(
    join(root, "etc/passwd"),
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
  );
  await writeFile(join(root, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
  // containers.conf sets no_hosts, so the image itself must resolve localhost (the inference proxy's address).
  await writeFile(join(root, "etc/hosts"), "127.0.0.1 localhost\n::1 localhost\n");
  await writeFile(join(root, "usr/local/bin/cynode-prompt"), promptClient);
  await chmod(join(root, "usr/local/bin/cynode-prompt"), 0o755);
  opts.log(`staged sandbox rootfs with ${applets.length} busybox applets`);
}
