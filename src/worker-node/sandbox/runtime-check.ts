/** Start-up check: podman runs a tiny container with exactly our sandbox flags, or we say plainly why not. */
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
  if (/cgroup/i.test(stderr))
    return `podman cannot apply the sandbox's pids/memory/cpu limits on this host's cgroups.\n${why}`;
  return `podman cannot run a sandbox container.\n${why}`;
}

export type RuntimeCheckOptions = {
  podman: Podman;
  image: string;
  limits: ContainerLimits;
  /** Builds the image when it is missing, if this node can (source tree present). */
  buildImage?: () => Promise<void>;
  name?: string;
};

/** Returns podman's version once a hardened container has run `true`; throws RuntimeCheckError otherwise. */
export async function checkSandboxRuntime({
  podman,
  image,
  limits,
  buildImage,
  name = `cynodeai-check-${process.pid}`,
}: RuntimeCheckOptions): Promise<string> {
  const version = await podman.exec(versionArgs());
  if (version.exitCode !== 0) {
    throw new RuntimeCheckError(`podman is not usable (apt-get install podman runc): ${version.stderr.trim()}`);
  }
  if ((await podman.exec(imageExistsArgs(image))).exitCode !== 0) {
    if (!buildImage)
      throw new RuntimeCheckError(
        `sandbox image ${image} is missing; build it with \`just images\` (bun containers/build-image.ts sandbox)`,
      );
    await buildImage().catch((err: Error) => {
      throw new RuntimeCheckError(`sandbox image ${image} is missing and building it failed: ${err.message}`);
    });
  }
  const probe = await podman.exec(containerArgs({ name, image, command: ["true"], env: {}, labels: {}, limits }));
  if (probe.exitCode !== 0) {
    await podman.exec(removeContainersArgs([name]));
    throw new RuntimeCheckError(explainPodmanFailure(probe.stderr, podman.containersConf));
  }
  return version.stdout.trim();
}
