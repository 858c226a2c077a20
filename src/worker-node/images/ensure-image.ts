/**
 * Builds an image from a freshly staged context when it is missing or stale, offline (`--pull=never`).
 * Every image carries two labels: a hash of its staged context and the version of the build that made it.
 * Which one decides "stale" is the caller's choice: `just images` compares the context hash (it sees source
 * changes), a compiled worker-node compares its own version (no staging at all when the image is current) and then
 * the contents, and a node run from source only builds what is missing (`just images` keeps it current).
 */
import { createHash } from "node:crypto";
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { VERSION } from "../../lib/version";
import type { Podman } from "../sandbox/podman";

export const INPUTS_LABEL = "io.cynodeai.inputs-sha256";
export const VERSION_LABEL = "io.cynodeai.version";

export type Freshness = "present" | "inputs" | { version: string };
export type EnsureResult = { image: string; built: boolean; inputsHash?: string };
export type EnsureOptions = {
  podman: Podman;
  image: string;
  /** Writes the build context (a Containerfile and what it copies) into `contextDir`. */
  stage: (contextDir: string) => Promise<void>;
  freshness: Freshness;
  /** The version label of a new build when freshness is not a version (default: this process's VERSION). */
  version?: string;
  force?: boolean;
  log: (line: string) => void;
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

/** The image's labels, or undefined when podman has no such image. */
export async function imageLabels(podman: Podman, image: string): Promise<Record<string, string> | undefined> {
  const r = await podman.exec(["image", "inspect", "--format", "{{json .Labels}}", image]);
  if (r.exitCode === 127) throw new Error(`podman is not usable (apt-get install podman): ${r.stderr.trim()}`);
  return r.exitCode === 0
    ? ((JSON.parse(r.stdout.trim() || "null") as Record<string, string> | null) ?? {})
    : undefined;
}

export async function ensureImage(o: EnsureOptions): Promise<EnsureResult> {
  const labels = o.force ? undefined : await imageLabels(o.podman, o.image);
  const { freshness } = o;
  if (
    labels &&
    (freshness === "present" || (typeof freshness === "object" && labels[VERSION_LABEL] === freshness.version))
  )
    return { image: o.image, built: false };
  const why = !labels
    ? "it is missing"
    : typeof freshness === "object"
      ? `it was built by version ${labels[VERSION_LABEL] ?? "(none)"}, this is ${freshness.version}`
      : "its inputs changed";
  const contextDir = await mkdtemp(join(tmpdir(), "cynode-build-"));
  try {
    await o.stage(contextDir);
    const inputsHash = await hashTree(contextDir);
    // Same contents (e.g. `just images` of this commit under a compiled node): nothing to rebuild.
    if (labels && labels[INPUTS_LABEL] === inputsHash) {
      o.log(`${o.image} is up to date`);
      return { image: o.image, built: false, inputsHash };
    }
    o.log(`building ${o.image}: ${why}`);
    const started = performance.now();
    const version = typeof freshness === "object" ? freshness.version : (o.version ?? VERSION);
    const build = await o.podman.exec([
      "build",
      "--pull=never",
      `--label=${INPUTS_LABEL}=${inputsHash}`,
      `--label=${VERSION_LABEL}=${version}`,
      `--tag=${o.image}`,
      `--file=${join(contextDir, "Containerfile")}`,
      contextDir,
    ]);
    if (build.exitCode !== 0)
      throw new Error(`podman build of ${o.image} failed:\n${build.stderr.trim() || build.stdout.trim()}`);
    o.log(`built ${o.image} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return { image: o.image, built: true, inputsHash };
  } finally {
    await rm(contextDir, { recursive: true, force: true });
  }
}
