/**
 * Stages the inference-proxy image's root filesystem: the proxy compiled with `bun build --compile` at
 * /inference-proxy plus the shared libraries `ldd` says it loads (glibc, ld-linux). `stageProxyRootfs` also suits a
 * worker that builds the image from its own sibling binary.
 */
import { chmod, copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const REPO = join(import.meta.dir, "..", "..");

async function run(argv: string[]): Promise<string> {
  const p = Bun.spawn(argv, { cwd: REPO, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${argv.join(" ")} failed (exit ${code}):\n${err.trim() || out.trim()}`);
  return out;
}

/** Absolute paths of the libraries in `ldd` output; the vDSO has none. A missing library is an error. */
export function parseLdd(output: string): string[] {
  const missing = output.split("\n").filter((l) => l.includes("=> not found"));
  if (missing.length) throw new Error(`missing shared libraries: ${missing.map((l) => l.trim()).join(", ")}`);
  return [...output.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/g)].map((m) => m[1]!);
}

/** Copies `binary` to `<rootDir>/inference-proxy` and its libraries to their own paths under rootDir. */
export async function stageProxyRootfs({ binary, rootDir }: { binary: string; rootDir: string }): Promise<string[]> {
  const libraries = parseLdd(await run(["ldd", binary]));
  for (const [from, to] of [[binary, "/inference-proxy"], ...libraries.map((l) => [l, l])] as const) {
    await mkdir(dirname(join(rootDir, to)), { recursive: true });
    await copyFile(from, join(rootDir, to)); // follows symlinks: the image gets the real file under the linked name
    await chmod(join(rootDir, to), 0o755);
  }
  return libraries;
}

/** Compiles src/inference-proxy/main.ts as build.ts does (same flags, git sha baked in). */
export async function compileProxy(outfile: string): Promise<void> {
  const sha = await run(["git", "rev-parse", "--short=12", "HEAD"]).then(
    (s) => s.trim(),
    () => "unknown",
  );
  await run([
    process.execPath,
    "build",
    "--compile",
    "--minify-syntax",
    "--minify-whitespace",
    `--define=CYNODE_GIT_SHA=${JSON.stringify(sha)}`,
    join(REPO, "src/inference-proxy/main.ts"),
    "--outfile",
    outfile,
  ]);
}

/** build-image.ts hook: stage `rootfs/` in the build context. */
export async function prepare({ contextDir, log }: { contextDir: string; log: (line: string) => void }): Promise<void> {
  // Compiled outside the context so podman is not sent the binary twice.
  const work = await mkdtemp(join(tmpdir(), "cynode-inference-proxy-"));
  try {
    const binary = join(work, "inference-proxy");
    await compileProxy(binary);
    const libraries = await stageProxyRootfs({ binary, rootDir: join(contextDir, "rootfs") });
    log(`staged inference-proxy with ${libraries.join(", ")}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
