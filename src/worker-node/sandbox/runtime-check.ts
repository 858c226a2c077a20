/**
 * Start-up check: what the sandbox needs (subordinate ids for its user namespace, FIFOs in the mount root, podman,
 * its service, the image) is there and a tiny container runs through the podman service with exactly our flags and
 * workspace tmpfs, or we say plainly what is not.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { ContainerLimits } from "./container-spec";
import type { Podman } from "./podman";
import { openSandboxIo } from "./sandbox";

export class RuntimeCheckError extends Error {}

/** Turns podman's error output into an operator-facing explanation. */
export function explainPodmanFailure(stderr: string, containersConf: string): string {
  const why = stderr.trim().split("\n").slice(-3).join("\n");
  if (/crun/i.test(stderr) && /cgroup/i.test(stderr)) {
    return `podman used crun, which cannot run on this host's cgroups; ${containersConf} selects runc — check that CONTAINERS_CONF points there and runc is installed (apt-get install runc).\n${why}`;
  }
  if (/runc/i.test(stderr) && /(not found|no such file|executable file)/i.test(stderr)) {
    return `the runc runtime is missing (apt-get install runc).\n${why}`;
  }
  if (/rlimit|ulimit|operation not permitted/i.test(stderr)) {
    return `the container's limits exceed what this host allows; lower default_ulimits (nofile/nproc) in ${containersConf}.\n${why}`;
  }
  if (/mappings|subuid|subgid|unused ids|user namespace/i.test(stderr)) {
    return `podman cannot give the sandbox its own user namespace; ${SUBID_FIX}.\n${why}`;
  }
  if (/cgroup/i.test(stderr))
    return `podman cannot apply the sandbox's pids/memory/cpu limits on this host's cgroups.\n${why}`;
  return `podman cannot run a sandbox container.\n${why}`;
}

/** The sandboxes' ids are the range reserved for `containers` in /etc/subuid and /etc/subgid (see podman.ts). */
const SUBID_FIX =
  "add the line `containers:2147483647:2147483648` to /etc/subuid and /etc/subgid (.ci/bootstrap.sh does this)";
const MIN_SUBORDINATE_IDS = 65536;

export async function checkSubordinateIds(files = ["/etc/subuid", "/etc/subgid"]): Promise<void> {
  for (const file of files) {
    const text = await readFile(file, "utf8").catch(() => "");
    const ok = text
      .split("\n")
      .map((l) => l.trim().split(":"))
      .some(([user, , count]) => user === "containers" && Number(count) >= MIN_SUBORDINATE_IDS);
    if (!ok) throw new RuntimeCheckError(`${file} has no subordinate ids for sandbox user namespaces: ${SUBID_FIX}`);
  }
}

/** A sandbox's streams are FIFOs in the mount root, owned by the sandboxes' root: the node must be able to make them. */
export async function checkSandboxIo(mountRoot: string): Promise<void> {
  const dir = await mkdtemp(join(mountRoot, ".check-"));
  try {
    (await openSandboxIo(dir)).close();
  } catch (err) {
    throw new RuntimeCheckError(
      `cannot make a sandbox's FIFOs under ${mountRoot} (the node must run as root): ${(err as Error).message}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export type RuntimeCheckOptions = {
  podman: Podman;
  image: string;
  limits: ContainerLimits;
  /** Builds the image when it is missing, if this node can (source tree present). */
  buildImage?: () => Promise<void>;
  name?: string;
  /** Checked when given: the node can make a sandbox's FIFOs there. */
  mountRoot?: string;
  /** Where the subordinate ids are read (tests point elsewhere). */
  subordinateIdFiles?: string[];
};

/** Returns podman's version once a hardened container has run `true`; throws RuntimeCheckError otherwise. */
export async function checkSandboxRuntime({
  podman,
  image,
  limits,
  buildImage,
  name = `cynodeai-check-${process.pid}-${crypto.randomUUID().slice(0, 8)}`,
  mountRoot,
  subordinateIdFiles,
}: RuntimeCheckOptions): Promise<string> {
  // The podman service answering is podman being usable: every later call of the node goes through it.
  const version = await podman.api.version().catch((err: Error) => {
    throw new RuntimeCheckError(`podman is not usable (apt-get install podman runc): ${err.message}`);
  });
  await checkSubordinateIds(subordinateIdFiles);
  if (mountRoot) await checkSandboxIo(mountRoot);
  if (!(await podman.api.imageExists(image))) {
    if (!buildImage)
      throw new RuntimeCheckError(
        `sandbox image ${image} is missing; build it with \`just images\` (bun containers/build-image.ts sandbox)`,
      );
    await buildImage().catch((err: Error) => {
      throw new RuntimeCheckError(`sandbox image ${image} is missing and building it failed: ${err.message}`);
    });
  }
  const exitCode = await runProbe(podman, { name, image, limits });
  if (exitCode !== 0) throw new RuntimeCheckError(`a sandbox container running \`true\` exited ${exitCode}`);
  return version;
}

/**
 * Runs `true` in a hardened container and returns its exit code. The probe is removed by us after the wait, never
 * by itself: a self-removing probe can be gone before the wait reaches podman (a loaded host, two nodes starting),
 * and the wait then fails with "no such container" although the check passed.
 */
async function runProbe(
  podman: Podman,
  { name, image, limits }: { name: string; image: string; limits: ContainerLimits },
): Promise<number> {
  const probe = {
    name,
    image,
    command: ["true"],
    env: {},
    labels: {},
    limits,
    workspace: { target: "/w", sizeMb: 1 },
    autoRemove: false,
  };
  try {
    const id = await podman.api.run(probe).catch((err: Error) => {
      throw new RuntimeCheckError(explainPodmanFailure(err.message, podman.containersConf));
    });
    return await podman.api.wait(id);
  } finally {
    // Also after a failed start, which leaves the created container behind.
    await podman.api.remove(name).catch(() => {});
  }
}
