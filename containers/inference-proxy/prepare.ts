/**
 * build-image.ts hook for the inference-proxy: compiles the proxy with `bun build --compile` and stages it with the
 * shared libraries it loads (src/worker-node/images/proxy-rootfs.ts, which a compiled worker node uses with the
 * `inference-proxy` executable beside it).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileArgs } from "../compile-args";
import { stageProxyRootfs } from "../../src/worker-node/images/proxy-rootfs";

const REPO = join(import.meta.dir, "..", "..");

async function run(argv: string[]): Promise<string> {
  const p = Bun.spawn(argv, { cwd: REPO, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${argv.join(" ")} failed (exit ${code}):\n${err.trim() || out.trim()}`);
  return out;
}

/**
 * Compiles src/inference-proxy/main.ts as build.ts does (same flags, git sha baked in): the output is byte for byte
 * dist/bin/inference-proxy of the same commit, so a compiled node finds this image's contents current.
 */
export async function compileProxy(outfile: string): Promise<void> {
  const sha = await run(["git", "rev-parse", "--short=12", "HEAD"]).then(
    (s) => s.trim(),
    () => "unknown",
  );
  await run([process.execPath, ...compileArgs({ entry: join(REPO, "src/inference-proxy/main.ts"), outfile, sha })]);
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
