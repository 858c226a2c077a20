/** Starts the real worker-node (node manager + Worker API + podman sandbox) with a node YAML in a temp state dir. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NodeIdentity } from "../../src/contracts/node-payloads";
import { loadOrCreateNodeKey, nodeIdentityProof } from "../../src/worker-node/node-manager/node-identity";
import { command, logField, startProcess, type ManagedProcess } from "./managed-process";
import { NODE_PSK } from "./orchestrator-process";

/**
 * Nodes the suite starts get the feature's slug plus this run's id: two runs on one machine never share a node
 * slug, so neither removes the other's sandboxes as leftovers, and the leftover check sees only this run's.
 */
export const RUN_ID = crypto.randomUUID().slice(0, 8);
export const runSlug = (slug: string) => `${slug}-${RUN_ID}`;

export type WorkerNodeOptions = {
  orchestratorUrl: string;
  slug: string;
  psk?: string;
  /** Replaces the generated node YAML (to test a bad one). */
  yaml?: string;
  env?: Record<string, string>;
  /** The node's default job timeout (fault tests use a short one). */
  jobTimeoutSeconds?: number;
  /** Appended to the generated node YAML (more top-level sections). */
  extraYaml?: string;
  /**
   * `sandbox.warm_pool` (the node's default when unset). Warm sandboxes start before their job is known, so they do
   * not carry its `cynodeai.task_id` label: scenarios that find a job's container by that label run cold (0).
   */
  warmPool?: number;
};

export type WorkerNode = {
  slug: string;
  workerApiUrl: string;
  /** Where it keeps its identity key (node-identity-key.json) among the rest of its state. */
  stateDir: string;
  process: ManagedProcess;
  stop(): Promise<void>;
};

export function nodeYaml(o: {
  orchestratorUrl: string;
  slug: string;
  stateDir: string;
  connectSeconds?: number;
  jobTimeoutSeconds?: number;
  warmPool?: number;
}): string {
  return [
    "orchestrator:",
    `  url: ${o.orchestratorUrl}`,
    `  timeouts: { connect_seconds: ${o.connectSeconds ?? 30}, request_seconds: 10 }`,
    "node:",
    `  id: ${o.slug}`,
    "worker_api:",
    "  listen_host: 127.0.0.1",
    "  listen_port: 0",
    "sandbox:",
    "  resources: { max_cpu_cores: 1, max_memory_mb: 256, max_pids: 64 }",
    `  timeouts: { default_seconds: ${o.jobTimeoutSeconds ?? 60}, max_seconds: 120 }`,
    ...(o.warmPool === undefined ? [] : [`  warm_pool: ${o.warmPool}`]),
    "storage:",
    `  state_dir: ${o.stateDir}`,
    "",
  ].join("\n");
}

/** Spawns the node; the caller waits for what it expects (ready, or an exit). */
export async function spawnWorkerNode(
  o: WorkerNodeOptions,
): Promise<{ process: ManagedProcess; stateDir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "cynode-bdd-node-"));
  const stateDir = join(dir, "state");
  const configPath = join(dir, "node.yaml");
  await writeFile(
    configPath,
    o.yaml ??
      nodeYaml({
        orchestratorUrl: o.orchestratorUrl,
        slug: runSlug(o.slug),
        stateDir,
        jobTimeoutSeconds: o.jobTimeoutSeconds,
        warmPool: o.warmPool,
      }) + (o.extraYaml ?? ""),
  );
  const slug = runSlug(o.slug);
  const proc = startProcess(`worker-node ${slug}`, [...command("worker-node"), "--config", configPath], {
    env: { NODE_REGISTRATION_PSK: o.psk ?? NODE_PSK, LOG_LEVEL: "info", ...o.env },
  });
  return {
    process: proc,
    stateDir,
    async cleanup() {
      await proc.stop();
      await removeWhatAKilledNodeLeft(slug, dir);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A node killed with SIGKILL leaves what its next start would reap: exited sandbox containers (removed after their
 * exit, never by `podman run --rm`) and workspace tmpfs mounts under its state dir. The suite removes them instead.
 */
async function removeWhatAKilledNodeLeft(slug: string, dir: string): Promise<void> {
  const ps = Bun.spawn(["podman", "ps", "--all", "--quiet", `--filter=label=cynodeai.node=${slug}`], {
    stdout: "pipe",
  });
  const ids = (await new Response(ps.stdout).text()).split("\n").filter(Boolean);
  if (ids.length) await Bun.spawn(["podman", "rm", "--force", "--time=0", ...ids], { stderr: "ignore" }).exited;
  const mounts = (await Bun.file("/proc/self/mounts").text())
    .split("\n")
    .map((line) => line.split(" ")[1] ?? "")
    .filter((m) => m.startsWith(`${dir}/`));
  for (const m of mounts.reverse()) await Bun.spawn(["umount", "--lazy", m], { stderr: "ignore" }).exited;
}

/**
 * What a registration of `node`'s slug carries to prove the node's key (read from its state dir, as only the node
 * and its machine's root can): for steps that register as the node itself, e.g. to learn its Worker API token.
 */
export async function nodeIdentityOf(node: WorkerNode, workerApiUrl = ""): Promise<NodeIdentity> {
  const key = await loadOrCreateNodeKey(node.stateDir);
  return nodeIdentityProof(key, { slug: node.slug, workerApiUrl, now: new Date() });
}

/** Starts a node and waits until it has registered, applied its config and acked it. */
export async function startWorkerNode(o: WorkerNodeOptions): Promise<WorkerNode> {
  const { process: proc, stateDir, cleanup } = await spawnWorkerNode(o);
  try {
    const ready = await proc.waitForLine(/"msg":"node ready"/, 180_000);
    const workerApiUrl = logField(ready, "worker_api");
    return { slug: runSlug(o.slug), workerApiUrl, stateDir, process: proc, stop: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
