/**
 * Stages the sandbox root filesystem into the build context: Debian's static busybox with every applet as a
 * symlink, the host's CA bundle, passwd/group/hosts, empty mount points, and the prompt-mode client
 * `cynode-prompt` in `/usr/local/bin`.
 */
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";

const CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

async function run(argv: string[], cwd?: string): Promise<{ ok: boolean; out: string }> {
  try {
    const p = Bun.spawnSync(argv, { cwd, stdout: "pipe", stderr: "pipe" });
    return { ok: p.exitCode === 0, out: p.stdout.toString() + p.stderr.toString() };
  } catch (err) {
    return { ok: false, out: (err as Error).message };
  }
}

/** Debian's busybox-static: the host's copy when that package is installed, else fetched once with apt into a cache. */
export async function staticBusybox(opts: {
  cacheDir?: string;
  log: (line: string) => void;
  preferHost?: boolean;
}): Promise<string> {
  const installed = await run(["dpkg-query", "-W", "-f=${Status}", "busybox-static"]);
  if ((opts.preferHost ?? true) && installed.ok && installed.out.includes("install ok installed"))
    return "/bin/busybox";
  const cacheDir =
    opts.cacheDir ?? join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "cynode", "busybox-static");
  const cached = join(cacheDir, "bin", "busybox");
  if (await Bun.file(cached).exists()) return cached;
  opts.log("fetching busybox-static with apt-get download");
  const work = await mkdtemp(join(tmpdir(), "cynode-busybox-"));
  try {
    let download = await run(["apt-get", "download", "busybox-static"], work);
    if (!download.ok) {
      await run(["apt-get", "update"]);
      download = await run(["apt-get", "download", "busybox-static"], work);
    }
    const deb = (await readdir(work)).find((f) => f.endsWith(".deb"));
    if (!download.ok || !deb)
      throw new Error(
        `cannot fetch busybox-static with apt (install it: apt-get install busybox-static):\n${download.out}`,
      );
    const extract = await run(["dpkg-deb", "-x", join(work, deb), cacheDir]);
    if (!extract.ok) throw new Error(`cannot unpack ${deb}: ${extract.out}`);
    return cached;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export async function prepare({ contextDir, log }: { contextDir: string; log: (line: string) => void }): Promise<void> {
  const busybox = await staticBusybox({ log });
  const root = join(contextDir, "rootfs");
  for (const dir of ["bin", "usr/local/bin", "etc/ssl/certs", "workspace", "tmp", "run/cynode", "root"]) {
    await mkdir(join(root, dir), { recursive: true });
  }
  await copyFile(busybox, join(root, "bin/busybox"));
  await chmod(join(root, "bin/busybox"), 0o755);
  await chmod(join(root, "tmp"), 0o1777);
  const applets = (await run([busybox, "--list"])).out
    .split("\n")
    .filter((a) => /^[\w.[-]+$/.test(a) && a !== "busybox");
  for (const applet of applets) await symlink("busybox", join(root, "bin", applet));
  for (const [link, target] of [
    ["sbin", "bin"],
    ["usr/bin", "../bin"],
    ["usr/sbin", "../bin"],
  ] as const)
    await symlink(target, join(root, link));
  if (!(await Bun.file(CA_BUNDLE).exists())) throw new Error(`${CA_BUNDLE} missing (apt-get install ca-certificates)`);
  await copyFile(CA_BUNDLE, join(root, CA_BUNDLE));
  await writeFile(
    join(root, "etc/passwd"),
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
  );
  await writeFile(join(root, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
  // containers.conf sets no_hosts, so the image itself must resolve localhost (the inference proxy's address).
  await writeFile(join(root, "etc/hosts"), "127.0.0.1 localhost\n::1 localhost\n");
  await copyFile(join(import.meta.dir, "cynode-prompt"), join(root, "usr/local/bin/cynode-prompt"));
  await chmod(join(root, "usr/local/bin/cynode-prompt"), 0o755);
  log(`staged sandbox rootfs with ${applets.length} busybox applets`);
}
