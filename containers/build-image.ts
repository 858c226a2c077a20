/**
 * Builds `localhost/cynode-<name>:latest` from `containers/<name>/Containerfile` with podman, offline.
 * The Containerfile is copied into a fresh build context; an optional `prepare.ts` beside it (exporting
 * `prepare({ contextDir })`) stages more files into it. The image is labelled with a hash of the staged context and
 * the build is skipped when the existing image carries the same hash (src/worker-node/images/ensure-image.ts, which
 * the worker node uses too).
 *
 *   bun containers/build-image.ts <name> [--force]
 */
import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { ensureImage, type EnsureResult } from "../src/worker-node/images/ensure-image";
import { createPodman, type Podman } from "../src/worker-node/sandbox/podman";

export { hashTree, INPUTS_LABEL } from "../src/worker-node/images/ensure-image";
export const imageName = (name: string) => `localhost/cynode-${name}:latest`;

/**
 * The version `bun build.ts` bakes into executables of this checkout: the label these images carry, so compiled
 * nodes of the same commit take them as their own.
 */
export function buildVersion(): string {
  const git = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: import.meta.dir });
  return `${pkg.version}+${git.exitCode === 0 ? git.stdout.toString().trim() : "unknown"}`;
}

export type PrepareStep = (opts: { contextDir: string; log: (line: string) => void }) => Promise<void>;
export type BuildOptions = {
  name: string;
  podman: Podman;
  containersDir?: string;
  force?: boolean;
  log?: (line: string) => void;
  /** The tag to build (default `imageName(name)`): tests of one checkout use their own, as checkouts share podman. */
  image?: string;
};

export async function buildImage({
  name,
  podman,
  containersDir = import.meta.dir,
  force = false,
  log = console.error,
  image = imageName(name),
}: BuildOptions): Promise<EnsureResult> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`invalid image name: ${name}`);
  const sourceDir = join(containersDir, name);
  if (!(await Bun.file(join(sourceDir, "Containerfile")).exists())) throw new Error(`no Containerfile in ${sourceDir}`);
  return ensureImage({
    podman,
    image,
    freshness: "inputs",
    version: buildVersion(),
    force,
    log,
    stage: async (contextDir) => {
      // The context is the Containerfile and what prepare.ts stages, as the worker node stages it (same hash).
      await copyFile(join(sourceDir, "Containerfile"), join(contextDir, "Containerfile"));
      if (await Bun.file(join(sourceDir, "prepare.ts")).exists()) {
        const { prepare } = (await import(join(sourceDir, "prepare.ts"))) as { prepare: PrepareStep };
        await prepare({ contextDir, log });
      }
    },
  });
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
