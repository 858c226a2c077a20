/**
 * The one podman adapter: every container of the node's jobs (sandboxes, attached runs, pods, sidecars, clean-up)
 * goes through `api`, the libpod API of the adapter's own podman service. What still runs a podman process (image
 * builds, the managed Ollama, tests) uses `exec`: argv, never a shell, and a minimal environment that always carries
 * our CONTAINERS_CONF (never the node's own); the deadline keeper, which outlives the node, gets the same `command`.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import builtinContainersConf from "../../../containers/containers.conf" with { type: "text" };
import { checkSpec, hardeningFlags, type ContainerSpec } from "./container-spec";
import { createLibpod, createPodmanService, type Libpod } from "./libpod";

export { builtinContainersConf };

/**
 * argv for `podman run` of a hardened, throw-away container: the benchmarks' bare baseline, and the command-line
 * side of the test that compares it with the API's container.
 */
export function containerArgs(spec: ContainerSpec): string[] {
  checkSpec(spec);
  const args = [
    "run",
    ...(spec.autoRemove === false ? [] : ["--rm"]),
    `--name=${spec.name}`,
    `--pull=${spec.pull ?? "never"}`,
  ];
  args.push(...hardeningFlags(spec));
  if (spec.deadlineSeconds) args.push(`--timeout=${Math.ceil(spec.deadlineSeconds)}`);
  for (const m of spec.mounts ?? [])
    args.push(
      `--mount=type=bind,source=${m.source},target=${m.target}${m.readOnly ? ",ro" : ""}${m.chown ? ",U=true" : ""}`,
    );
  if (spec.workdir) args.push(`--workdir=${spec.workdir}`);
  args.push(...labelFlags(spec.labels));
  for (const [k, v] of Object.entries(spec.env)) args.push(`--env=${k}=${v}`);
  return [...args, spec.image, ...spec.command];
}

export const labelFlags = (labels: Record<string, string>) =>
  Object.entries(labels).map(([k, v]) => `--label=${k}=${v}`);

/** Variables podman itself needs (rootless runtime dirs, storage); nothing else of the node reaches it. */
const PASSED_TO_PODMAN = [
  "PATH",
  "HOME",
  "TMPDIR",
  "LANG",
  "XDG_RUNTIME_DIR",
  "XDG_CONFIG_HOME",
  "XDG_DATA_HOME",
  "CONTAINERS_STORAGE_CONF",
  "CONTAINERS_REGISTRIES_CONF",
];

export function podmanEnv(containersConf: string, hostEnv: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" };
  for (const k of PASSED_TO_PODMAN) if (hostEnv[k]) env[k] = hostEnv[k]!;
  env.CONTAINERS_CONF = containersConf;
  return env;
}

/**
 * Our containers.conf: an explicit path (CYNODE_CONTAINERS_CONF / node config) wins; from source, the repo's
 * `containers/containers.conf`; in a compiled binary (no source tree) the embedded copy written into the state dir.
 */
export async function resolveContainersConf(opts: {
  explicit?: string;
  stateDir: string;
  sourcePath?: string;
}): Promise<string> {
  if (opts.explicit) {
    if (!(await Bun.file(opts.explicit).exists())) throw new Error(`containers.conf not found: ${opts.explicit}`);
    return opts.explicit;
  }
  const source = opts.sourcePath ?? fileURLToPath(new URL("../../../containers/containers.conf", import.meta.url));
  if (await Bun.file(source).exists()) return source;
  await mkdir(opts.stateDir, { recursive: true });
  const written = join(opts.stateDir, "containers.conf");
  const current = Bun.file(written);
  if (!(await current.exists()) || (await current.text()) !== builtinContainersConf)
    await Bun.write(written, builtinContainersConf);
  return written;
}

export type PodmanResult = { exitCode: number; stdout: string; stderr: string };

export type Podman = {
  readonly containersConf: string;
  /** The binary and environment every podman process of this adapter gets (for a process that outlives the node). */
  readonly command: { bin: string; env: Record<string, string> };
  /** Runs podman to completion and collects its (small) output. */
  exec(args: string[]): Promise<PodmanResult>;
  /** The libpod API of this adapter's own podman service, started on first use. */
  readonly api: Libpod;
  /** Stops that service (the containers it started live on: conmon owns them). */
  close(): Promise<void>;
};

export type PodmanOptions = { containersConf: string; bin?: string; hostEnv?: Record<string, string | undefined> };

export function createPodman({ containersConf, bin = "podman", hostEnv = process.env }: PodmanOptions): Podman {
  const env = podmanEnv(containersConf, hostEnv);
  const service = createPodmanService({ bin, env });
  return {
    containersConf,
    command: { bin, env },
    api: createLibpod(service),
    close: () => service.close(),
    async exec(args) {
      let proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
      try {
        proc = Bun.spawn([bin, ...args], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
      } catch (err) {
        return { exitCode: 127, stdout: "", stderr: `cannot run ${bin}: ${(err as Error).message}` };
      }
      const [stdout, stderr, exitCode] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
        proc.exited,
      ]);
      return { exitCode, stdout, stderr };
    },
  };
}
