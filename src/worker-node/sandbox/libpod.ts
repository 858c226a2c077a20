/**
 * The libpod REST API of the node's podman service (podman-service.ts): a `ContainerSpec` becomes the same
 * container `containerArgs` describes on the command line (a test creates both and compares their inspect output),
 * created, started, awaited and removed with one HTTP call each.
 */
import { checkSpec, SANDBOX_ID_BASE, SANDBOX_ID_COUNT, type ContainerSpec } from "./container-spec";
import type { PodmanService } from "./podman-service";

const API = "http://podman/v4.0.0/libpod";
const MB = 1024 * 1024;
const CPU_PERIOD = 100_000;

export class LibpodError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const idMap = [{ container_id: 0, host_id: SANDBOX_ID_BASE, size: SANDBOX_ID_COUNT }];
const tmpfs = (destination: string, sizeMb: number, mode: string) => ({
  destination,
  type: "tmpfs",
  source: "tmpfs",
  options: ["rw", "nosuid", "nodev", `mode=${mode}`, `size=${sizeMb}m`],
});

const bind = (m: NonNullable<ContainerSpec["mounts"]>[number]) => ({
  destination: m.target,
  type: "bind",
  source: m.source,
  options: ["rbind", m.readOnly ? "ro" : "rw"],
});

/** The libpod SpecGenerator of a hardened, throw-away sandbox (`remove`: conmon's cleanup removes it at exit). */
export function createBody(spec: ContainerSpec) {
  checkSpec(spec);
  const memory = spec.limits.memoryMb * MB;
  return {
    name: spec.name,
    image: spec.image,
    command: spec.command,
    env: spec.env,
    labels: spec.labels,
    remove: spec.autoRemove !== false,
    ...(spec.pod
      ? { pod: spec.pod }
      : {
          netns: { nsmode: "none" },
          // Without nsmode the mappings are ignored and the container runs as the host's root.
          userns: { nsmode: "private" },
          idmappings: { UIDMap: idMap, GIDMap: idMap },
          hostname: "sandbox",
        }),
    ...(spec.deadlineSeconds ? { timeout: Math.ceil(spec.deadlineSeconds) } : {}),
    cap_drop: ["ALL"],
    no_new_privileges: true,
    read_only_filesystem: true,
    mounts: [
      // As `--read-only` gives on the command line: /run and /var/tmp stay writable (podman 4.3's API has no flag).
      ...["/run", "/var/tmp"].map((d) => ({
        destination: d,
        type: "tmpfs",
        source: "tmpfs",
        options: ["rw", "nosuid", "nodev"],
      })),
      tmpfs("/tmp", spec.tmpfsMb ?? 256, "1777"),
      ...(spec.workspace ? [tmpfs(spec.workspace.target, spec.workspace.sizeMb, "0700")] : []),
      ...(spec.mounts ?? []).map(bind),
    ],
    resource_limits: {
      pids: { limit: spec.limits.pids },
      memory: { limit: memory, swap: memory },
      cpu: { quota: Math.round(spec.limits.cpus * CPU_PERIOD), period: CPU_PERIOD },
    },
    log_configuration: { driver: "none" },
    ...(spec.workdir ? { work_dir: spec.workdir } : {}),
  };
}

export type Libpod = {
  /** Creates the container (not started); resolves to its id. */
  create(spec: ContainerSpec): Promise<string>;
  /** Creates and starts the container; resolves to its id. */
  run(spec: ContainerSpec): Promise<string>;
  /** Resolves to the exit code once the container has exited. */
  wait(id: string): Promise<number>;
  /** Removes at once (killing it if it runs); a container already gone is no error. */
  remove(nameOrId: string): Promise<void>;
  /** Names of the containers (any state) carrying all these labels. */
  list(labels: Record<string, string>): Promise<string[]>;
};

export function createLibpod(service: PodmanService): Libpod {
  /** `long`: an answer that may take as long as a container lives (no idle limit). */
  async function call(method: string, path: string, body?: unknown, long = false): Promise<Response> {
    const res = await fetch(`${API}${path}`, {
      method,
      unix: await service.socket(),
      ...(long ? { timeout: false } : {}),
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    } as RequestInit);
    if (res.ok || res.status === 304) return res;
    const text = await res.text();
    let message = text.trim();
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {}
    throw new LibpodError(res.status, message || `podman service answered ${res.status}`);
  }
  const named = (id: string) => encodeURIComponent(id);
  const create = async (spec: ContainerSpec) =>
    ((await (await call("POST", "/containers/create", createBody(spec))).json()) as { Id: string }).Id;
  return {
    create,
    async run(spec) {
      const id = await create(spec);
      await (await call("POST", `/containers/${id}/start`)).body?.cancel();
      return id;
    },
    async wait(id) {
      const res = await call("POST", `/containers/${named(id)}/wait?condition=exited`, undefined, true);
      return Number(await res.text());
    },
    async remove(id) {
      try {
        await (await call("DELETE", `/containers/${named(id)}?force=true&timeout=0`)).body?.cancel();
      } catch (err) {
        if (!(err instanceof LibpodError && err.status === 404)) throw err;
      }
    },
    async list(labels) {
      const filters = JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });
      const res = await call("GET", `/containers/json?all=true&filters=${encodeURIComponent(filters)}`);
      return ((await res.json()) as { Names: string[] }[]).map((c) => c.Names[0]!);
    },
  };
}
