/**
 * What a sandbox container is: the typed spec the libpod API's body (`createBody` in libpod.ts) is built from, the
 * one definition of the hardening every container of the node gets (`hardeningFields`; `hardeningFlags` renders it
 * as `podman run` flags for the benchmarks' baseline), and the checks that keep anything podman could misread out
 * of it.
 */
import { ARTIFACTS_DIR } from "../../contracts/task-files";

/** `chown`: the source is given to the container's root first (podman's `U` option), e.g. for a socket it creates. */
export type Mount = { source: string; target: string; readOnly?: boolean; chown?: boolean };
export type ContainerLimits = { pids: number; memoryMb: number; cpus: number };

/** Everything a sandbox container is started with; `pod` joins a pod (its network) instead of `--network=none`. */
export type ContainerSpec = {
  name: string;
  image: string;
  command: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  limits: ContainerLimits;
  workdir?: string;
  mounts?: Mount[];
  tmpfsMb?: number;
  /** A size-limited tmpfs (the disk quota): charged to the container's memory, never on the host's disk. */
  workspace?: { target: string; sizeMb: number };
  pod?: string;
  /** `missing`: pulled through the service first when it is not in local storage (attached runs of other images). */
  pull?: "never" | "missing";
  /** podman's own deadline (libpod's `timeout`): conmon kills the container then, even if its worker is dead. */
  deadlineSeconds?: number;
  /** false: the caller removes the container after reading its exit (the result need not wait for removal). */
  autoRemove?: boolean;
  /** Keep podman's log of its output (a sidecar, whose last lines explain a failed start); sandboxes keep none. */
  keepLogs?: boolean;
};

/**
 * The sandboxes' user namespace: uid/gid 0-65535 inside are 2147483647+ on the host, the range `.ci/bootstrap.sh`
 * reserves for `containers` in /etc/subuid and /etc/subgid. A fixed map, not `--userns=auto`: podman 4.3's automatic
 * allocation locks every container while holding the layer store and deadlocks with a concurrent cleanup.
 */
export const SANDBOX_ID_BASE = 2147483647;
export const SANDBOX_ID_COUNT = 65536;
export const USERNS_FLAGS = [
  `--uidmap=0:${SANDBOX_ID_BASE}:${SANDBOX_ID_COUNT}`,
  `--gidmap=0:${SANDBOX_ID_BASE}:${SANDBOX_ID_COUNT}`,
];

export type Tmpfs = { target: string; sizeMb: number; mode: string };

/**
 * Every writable path of a sandbox: size-limited tmpfs mounts (charged to the container's memory, never on the
 * host's disk) over a read-only root. /run and /var/tmp are what `--read-only` would leave writable, unbounded.
 */
export function sandboxTmpfs(spec: Pick<ContainerSpec, "tmpfsMb" | "workspace">): Tmpfs[] {
  return [
    { target: "/run", sizeMb: 16, mode: "0755" },
    { target: "/var/tmp", sizeMb: 64, mode: "1777" },
    { target: "/tmp", sizeMb: spec.tmpfsMb ?? 256, mode: "1777" },
    // What a job leaves for its task (decision 23): bounded like its workspace, both charged to its memory.
    ...(spec.workspace
      ? [
          { target: spec.workspace.target, sizeMb: spec.workspace.sizeMb, mode: "0700" },
          { target: ARTIFACTS_DIR, sizeMb: spec.workspace.sizeMb, mode: "0700" },
        ]
      : []),
  ];
}

const SAFE_MOUNT_PATH = /^\/[^,:\n]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Refuses an image, env name or mount path that podman would misread as a flag or an option list. */
export function checkSpec(spec: ContainerSpec): void {
  if (spec.image.startsWith("-")) throw new Error(`invalid image name: ${spec.image}`);
  for (const m of spec.mounts ?? [])
    if (!SAFE_MOUNT_PATH.test(m.source) || !SAFE_MOUNT_PATH.test(m.target))
      throw new Error(`unsafe mount path: ${m.source}`);
  // A bare `--env NAME` would copy podman's own environment into the container.
  for (const k of Object.keys(spec.env))
    if (!ENV_NAME.test(k)) throw new Error(`invalid environment variable name: ${k}`);
}

/** What no container of the node keeps: every capability, and any way to gain privileges (Ollama's too). */
export const PRIVILEGE_FLAGS = ["--cap-drop=ALL", "--security-opt=no-new-privileges"];

const MB = 1024 * 1024;
const CPU_PERIOD = 100_000;
const idMap = [{ container_id: 0, host_id: SANDBOX_ID_BASE, size: SANDBOX_ID_COUNT }];
const tmpfsMount = (t: Tmpfs) => ({
  destination: t.target,
  type: "tmpfs",
  source: "tmpfs",
  options: ["rw", "nosuid", "nodev", `mode=${t.mode}`, `size=${t.sizeMb}m`],
});

/**
 * The hardening of a sandbox-like container (sandbox, sidecar, runtime probe) as libpod SpecGenerator fields: no
 * capability, no new privileges, read-only root with bounded tmpfs (`mounts`, to which the caller adds its binds),
 * pids/memory/cpu limits, no log; outside a pod also no network and the sandboxes' user namespace (a pod's members
 * share the pod's, podBody in libpod.ts).
 */
export function hardeningFields(spec: ContainerSpec) {
  const memory = spec.limits.memoryMb * MB;
  return {
    ...(spec.pod
      ? { pod: spec.pod }
      : {
          netns: { nsmode: "none" },
          // Without nsmode the mappings are ignored and the container runs as the host's root.
          userns: { nsmode: "private" },
          idmappings: { UIDMap: idMap, GIDMap: idMap },
          hostname: "sandbox",
        }),
    cap_drop: ["ALL"],
    no_new_privileges: true,
    read_only_filesystem: true,
    mounts: sandboxTmpfs(spec).map(tmpfsMount),
    resource_limits: {
      pids: { limit: spec.limits.pids },
      memory: { limit: memory, swap: memory },
      cpu: { quota: Math.round(spec.limits.cpus * CPU_PERIOD), period: CPU_PERIOD },
    },
    ...(spec.keepLogs ? {} : { log_configuration: { driver: "none" } }),
  };
}

/**
 * The same hardening as `podman run` flags, for the benchmarks' bare `podman run` baseline (the node itself never
 * runs one); a test compares both renderings' inspect output.
 */
export function hardeningFlags(spec: ContainerSpec): string[] {
  return [
    // Root inside is an unprivileged host uid: a user namespace (a pod's members share the pod's).
    ...(spec.pod ? [`--pod=${spec.pod}`] : ["--network=none", ...USERNS_FLAGS, "--hostname=sandbox"]),
    ...PRIVILEGE_FLAGS,
    "--read-only",
    ...sandboxTmpfs(spec).map((t) => `--tmpfs=${t.target}:rw,nosuid,nodev,mode=${t.mode},size=${t.sizeMb}m`),
    `--pids-limit=${spec.limits.pids}`,
    `--memory=${spec.limits.memoryMb}m`,
    `--memory-swap=${spec.limits.memoryMb}m`,
    `--cpus=${spec.limits.cpus}`,
    ...(spec.keepLogs ? [] : ["--log-driver=none"]),
  ];
}
