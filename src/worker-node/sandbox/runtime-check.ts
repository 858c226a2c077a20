/**
 * Start-up check: what the sandbox needs (subordinate ids for its user namespace, a tmpfs mount for its workspace
 * quota, podman, the image) is there and a tiny container runs with exactly our flags, or we say plainly what is not.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { mountsUnder, mountTmpfs, unmount } from "./workspace";
import {
  containerArgs,
  imageExistsArgs,
  removeContainersArgs,
  versionArgs,
  type ContainerLimits,
  type Podman,
} from "./podman";

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

/** The workspace quota is a tmpfs mounted by the node, which needs root (CAP_SYS_ADMIN). */
export async function checkWorkspaceMount(mountRoot: string): Promise<void> {
  const dir = await mkdtemp(join(mountRoot, ".check-"));
  try {
    await mountTmpfs(dir, 1);
  } catch (err) {
    throw new RuntimeCheckError(
      `cannot mount the size-limited tmpfs that holds each job's /workspace (the node must run as root): ${(err as Error).message}`,
    );
  } finally {
    for (const m of await mountsUnder(dir)) await unmount(m);
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
  /** Checked when given: the host can mount the workspace tmpfs there. */
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
  name = `cynodeai-check-${process.pid}`,
  mountRoot,
  subordinateIdFiles,
}: RuntimeCheckOptions): Promise<string> {
  const version = await podman.exec(versionArgs());
  if (version.exitCode !== 0) {
    throw new RuntimeCheckError(`podman is not usable (apt-get install podman runc): ${version.stderr.trim()}`);
  }
  await checkSubordinateIds(subordinateIdFiles);
  if (mountRoot) await checkWorkspaceMount(mountRoot);
  if ((await podman.exec(imageExistsArgs(image))).exitCode !== 0) {
    if (!buildImage)
      throw new RuntimeCheckError(
        `sandbox image ${image} is missing; build it with \`just images\` (bun containers/build-image.ts sandbox)`,
      );
    await buildImage().catch((err: Error) => {
      throw new RuntimeCheckError(`sandbox image ${image} is missing and building it failed: ${err.message}`);
    });
  }
  // Removed by us, not `--rm`: that can deadlock with its own cleanup on a busy host (podman#29646).
  const probe = await podman.exec(
    containerArgs({ name, image, command: ["true"], env: {}, labels: {}, limits, autoRemove: false }),
  );
  await podman.exec(removeContainersArgs([name]));
  if (probe.exitCode !== 0) throw new RuntimeCheckError(explainPodmanFailure(probe.stderr, podman.containersConf));
  return version.stdout.trim();
}
