/**
 * Builds `localhost/cynode-<name>:latest` from `containers/<name>/Containerfile` with podman, offline.
 * The directory is copied into a fresh build context; an optional `prepare.ts` there (exporting
 * `prepare({ contextDir })`) stages more files into it. The image is labelled with a hash of the staged context and
 * the build is skipped when the existing image carries the same hash.
 *
 *   bun containers/build-image.ts <name> [--force]
 */
import { createHash } from "node:crypto";
import { cp, lstat, mkdtemp, readdir, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { createPodman, type Podman } from "../src/worker-node/sandbox/podman";

export const INPUTS_LABEL = "io.cynodeai.inputs-sha256";
export const imageName = (name: string) => `localhost/cynode-${name}:latest`;

export type PrepareStep = (opts: { contextDir: string; log: (line: string) => void }) => Promise<void>;
export type BuildResult = { image: string; built: boolean; inputsHash: string };
export type BuildOptions = {
  name: string;
  podman: Podman;
  containersDir?: string;
  force?: boolean;
  log?: (line: string) => void;
};

/** sha256 over every path, mode, symlink target and file content of a directory tree, in sorted order. */
export async function hashTree(root: string): Promise<string> {
  const hash = createHash("sha256");
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir)).sort()) {
      const path = join(dir, entry);
      const st = await lstat(path);
      hash.update(`${relative(root, path)}\0${st.mode}\0`);
      if (st.isSymbolicLink()) hash.update(await readlink(path));
      else if (st.isDirectory()) await walk(path);
      else hash.update(await readFile(path));
      hash.update("\0");
    }
  };
  await walk(root);
  return hash.digest("hex");
}

export async function buildImage({
  name,
  podman,
  containersDir = import.meta.dir,
  force = false,
  log = console.error,
}: BuildOptions): Promise<BuildResult> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`invalid image name: ${name}`);
  const sourceDir = join(containersDir, name);
  if (!(await Bun.file(join(sourceDir, "Containerfile")).exists())) throw new Error(`no Containerfile in ${sourceDir}`);
  const image = imageName(name);
  const contextDir = await mkdtemp(join(tmpdir(), `cynode-build-${name}-`));
  try {
    await cp(sourceDir, contextDir, {
      recursive: true,
      filter: (src) => !/(^|\/)(prepare\.ts|[^/]*\.test\.ts)$/.test(src),
    });
    if (await Bun.file(join(sourceDir, "prepare.ts")).exists()) {
      const { prepare } = (await import(join(sourceDir, "prepare.ts"))) as { prepare: PrepareStep };
      await prepare({ contextDir, log });
    }
    const inputsHash = await hashTree(contextDir);
    const current = await podman.exec(["image", "inspect", "--format", `{{index .Labels "${INPUTS_LABEL}"}}`, image]);
    if (!force && current.exitCode === 0 && current.stdout.trim() === inputsHash) {
      log(`${image} is up to date`);
      return { image, built: false, inputsHash };
    }
    const build = await podman.exec([
      "build",
      "--pull=never",
      `--label=${INPUTS_LABEL}=${inputsHash}`,
      `--tag=${image}`,
      `--file=${join(contextDir, "Containerfile")}`,
      contextDir,
    ]);
    if (build.exitCode !== 0)
      throw new Error(`podman build of ${image} failed:\n${build.stderr.trim() || build.stdout.trim()}`);
    log(`built ${image}`);
    return { image, built: true, inputsHash };
  } finally {
    await rm(contextDir, { recursive: true, force: true });
  }
}

/** The command line: `<name> [--force]`; returns the exit code. */
export async function main(argv: string[], log: (line: string) => void = console.error): Promise<number> {
  const [name, ...flags] = argv;
  if (!name || name.startsWith("-")) {
    log("usage: bun containers/build-image.ts <name> [--force]");
    return 2;
  }
  const podman = createPodman({ containersConf: join(import.meta.dir, "containers.conf") });
  try {
    await buildImage({ name, podman, force: flags.includes("--force"), log });
    return 0;
  } catch (err) {
    log((err as Error).message);
    return 1;
  }
}

if (import.meta.main) process.exit(await main(Bun.argv.slice(2)));
