/**
 * Per-job inference placement (decision 6, contracts 4.6): a pod with no network; the inference-proxy sidecar in it
 * listens on the pod's 127.0.0.1:11434 and on a socket in the job's run dir, which the sandbox also mounts at
 * /run/cynode; the sidecar's upstream is the node's relay socket, whose directory only the sidecar mounts.
 * The sidecar is told the job's allowed models (INFERENCE_ALLOWED_MODELS) and the node's option limits at start. A
 * warm pod starts before its job is known, so it gets the node's default models, and only a job allowed exactly
 * those (`fitsWarm`) takes one; a job with its own list gets a pod of its own.
 * A restricted job (decision 28) gets a pod of its own too, whose sidecar also serves the sandbox's HTTP(S) proxy
 * and passes it to the job's egress broker on the node (egress/job-egress.ts); without inference, the sidecar is told
 * no model and given no relay, and the sandbox does not mount its socket.
 */
import { chmod, mkdir } from "node:fs/promises";
import type { RunJobRequest } from "../../contracts/worker-api";
import { modelAllowed, type InferenceLimits } from "../../lib/inference-request";
import { dirname, join } from "node:path";
import type { ContainerLimits, ContainerSpec } from "../sandbox/container-spec";
import type { Podman } from "../sandbox/podman";
import { NODE_LABEL, type PlaceJob } from "../sandbox/job-sandbox";
import type { Placement } from "../sandbox/sandbox";
import type { Logger } from "../../lib/log";
import type { EgressBroker } from "../egress/broker";
import { EGRESS_ENV, isRestricted, SIDECAR_EGRESS_DIR, sidecarEgressEnv, startJobBroker } from "../egress/job-egress";

export const SANDBOX_RUN_DIR = "/run/cynode";
const SIDECAR_UPSTREAM_DIR = "/run/upstream";
const PROXY_TCP = "127.0.0.1:11434";
const RELAY_SOCKET = "ollama.sock";
/** What a sandbox in an inference pod is told; both lead to its own sidecar. */
export const INFERENCE_ENV = {
  OLLAMA_BASE_URL: "http://localhost:11434",
  INFERENCE_PROXY_URL: "http+unix://%2Frun%2Fcynode%2Finference-proxy.sock",
};
const PROXY_SOCKET = `${SANDBOX_RUN_DIR}/inference-proxy.sock`;
// The sidecar is one small process; these bound it whatever the sandbox's own limits are.
const SIDECAR_LIMITS: ContainerLimits = { pids: 128, memoryMb: 256, cpus: 1 };

export const podName = (jobId: string) => `cynodeai-pod-${jobId}`;
export const sidecarName = (jobId: string) => `cynodeai-proxy-${jobId}`;

export type SidecarSpec = {
  name: string;
  pod: string;
  image: string;
  runDir: string;
  /** The node's relay; absent for a pod without inference. */
  relayDir?: string;
  /** The job's egress broker directory (restricted jobs). */
  egressDir?: string;
  timeoutSeconds: number;
  labels: Record<string, string>;
  allowedModels: readonly string[];
  limits: InferenceLimits;
  maxConnections: number;
};

/** The sidecar: a container of the pod with every sandbox's hardening (container-spec.ts), its own small limits. */
export function sidecarSpec(s: SidecarSpec): ContainerSpec {
  return {
    name: s.name,
    image: s.image,
    command: [],
    pod: s.pod,
    labels: s.labels,
    limits: SIDECAR_LIMITS,
    autoRemove: false,
    keepLogs: true,
    mounts: [
      // Owned by the pod's root, so the sidecar can create its socket there.
      { source: s.runDir, target: SANDBOX_RUN_DIR, chown: true },
      ...(s.relayDir ? [{ source: s.relayDir, target: SIDECAR_UPSTREAM_DIR, readOnly: true }] : []),
      ...(s.egressDir ? [{ source: s.egressDir, target: SIDECAR_EGRESS_DIR, readOnly: true }] : []),
    ],
    env: {
      INFERENCE_PROXY_LISTEN: PROXY_TCP,
      INFERENCE_PROXY_SOCKET: PROXY_SOCKET,
      OLLAMA_UPSTREAM_URL: `unix:${SIDECAR_UPSTREAM_DIR}/${RELAY_SOCKET}`,
      INFERENCE_PROXY_TIMEOUT: `${s.timeoutSeconds}s`,
      INFERENCE_ALLOWED_MODELS: s.allowedModels.join(","),
      INFERENCE_MAX_TOKENS: String(s.limits.maxTokens),
      INFERENCE_MAX_CONTEXT: String(s.limits.maxContext),
      INFERENCE_MAX_KEEP_ALIVE: String(s.limits.keepAlive),
      INFERENCE_PROXY_MAX_CONNECTIONS: String(s.maxConnections),
      ...(s.egressDir ? sidecarEgressEnv() : {}),
    },
  };
}

/** Removes the pods (and so their containers) a previous run of this node left behind; one gone meanwhile is none. */
export async function removeLeftoverPods(podman: Podman, nodeSlug: string): Promise<string[]> {
  const names = await podman.api.listPods({ [NODE_LABEL]: nodeSlug }).catch((err: Error) => {
    throw new Error(`listing pods failed: ${err.message}`);
  });
  await Promise.all(names.map((n) => podman.api.removePod(n)));
  return names;
}

/**
 * A forced pod removal can race the job container's own auto-removal and give up ("removing container … from pod");
 * a second pass then finds the pod without it.
 */
async function removePod(podman: Podman, pod: string): Promise<void> {
  let failed = "";
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      return await podman.api.removePod(pod);
    } catch (err) {
      failed = (err as Error).message;
    }
    await Bun.sleep(100 * Math.min(attempt + 1, 5));
  }
  throw new Error(`pod rm ${pod}: ${failed}`);
}

/** Where inference jobs get their upstream: the relay's directory, or why this node has none. */
export type InferenceRoute = { relayDir: string } | { unavailable: string };

export type PlacementDeps = {
  podman: Podman;
  nodeSlug: string;
  mountRoot: string;
  proxyImage: string;
  proxyTimeoutSeconds: number;
  /** The models a job that names none may use, and all a warm pod's sidecar allows. */
  defaultModels: readonly string[];
  limits: InferenceLimits;
  /** Connections each sidecar holds at once. */
  proxyMaxConnections: number;
  route: () => InferenceRoute;
  sleep?: (ms: number) => Promise<void>;
  /** The egress brokers' log (restricted jobs). */
  log: Logger;
};

/** What one pod serves: inference for these models, and egress through this broker. */
type PodServes = { models?: readonly string[]; broker?: EgressBroker };

/**
 * A sidecar's root is an unprivileged host uid (the pod's user namespace), so the relay socket must be reachable by
 * any local uid: no more than Ollama's own 127.0.0.1 port already is. Re-applied per pod, as the relay may restart.
 */
async function exposeRelay(relayDir: string): Promise<void> {
  await chmod(relayDir, 0o711);
  await chmod(join(relayDir, RELAY_SOCKET), 0o666).catch(() => {});
}

/** Readiness probes, 50 ms apart, before a sidecar that still runs counts as failed. */
const READINESS_ATTEMPTS = 200;
const READINESS_INTERVAL_MS = 50;

/** Whether the proxy answers `/healthz` on its socket, probed from the host (the run dir is a host directory). */
async function answers(socket: string): Promise<boolean> {
  try {
    const res = await fetch("http://sidecar/healthz", {
      unix: socket,
      signal: AbortSignal.timeout(1000),
    } as RequestInit);
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** The models a job may use: its own list, or the node's default. */
export const jobModels = (job: RunJobRequest, defaults: readonly string[]): readonly string[] =>
  job.inference?.allowed_models ?? defaults;

/** Whether two model lists allow the same models (`name` and `name:latest` being one). */
export function sameModels(a: readonly string[], b: readonly string[]): boolean {
  return a.every((m) => modelAllowed(m, b)) && b.every((m) => modelAllowed(m, a));
}

export function createInferencePlacement(deps: PlacementDeps): PlaceJob {
  const { podman } = deps;
  const sleep = deps.sleep ?? Bun.sleep;

  /** Runs one stage; its failure reads `<stage>: <podman's words>` (contracts 4.6). */
  const stage = (name: string, work: Promise<unknown>) =>
    work.catch((err: Error) => {
      throw new Error(`${name}: ${err.message}`);
    });

  /**
   * The proxy opens its TCP listener before its socket (listeners.ts), so a socket that answers means both do. A
   * sidecar that stops ends the wait at once.
   */
  async function waitUntilReady(sidecar: string, runDir: string): Promise<void> {
    const socket = join(runDir, PROXY_SOCKET.slice(SANDBOX_RUN_DIR.length + 1));
    const stopped = podman.api.wait(sidecar).then(
      () => true,
      () => true,
    );
    for (let attempt = 0; attempt < READINESS_ATTEMPTS; attempt++) {
      if (await answers(socket)) return;
      if (await Promise.race([stopped, sleep(READINESS_INTERVAL_MS).then(() => false)])) break;
    }
    const logs = await podman.api
      .logs(sidecar, 20)
      .catch((err: Error) => `(its log could not be read: ${err.message})`);
    throw new Error(`proxy readiness: the inference proxy did not become ready: ${logs.trim() || "no output"}`);
  }

  /** The relay's directory for a pod with inference (exposed to the sidecar), else none. */
  async function relayFor(models: readonly string[] | undefined): Promise<string | undefined> {
    if (!models) return undefined;
    const route = deps.route();
    if ("unavailable" in route) throw new Error(`this node cannot run inference jobs: ${route.unavailable}`);
    await exposeRelay(route.relayDir);
    return route.relayDir;
  }

  async function place(id: string, labels: Record<string, string>, serves: PodServes): Promise<Placement> {
    const relayDir = await relayFor(serves.models);
    const runDir = join(deps.mountRoot, id, "run");
    await mkdir(runDir, { recursive: true, mode: 0o700 });
    const pod = podName(id);
    const sidecar = sidecarName(id);
    const release = () => removePod(podman, pod);
    try {
      await stage("pod create", podman.api.createPod(pod, labels));
      const spec = sidecarSpec({
        name: sidecar,
        pod,
        image: deps.proxyImage,
        runDir,
        relayDir,
        egressDir: serves.broker && dirname(serves.broker.socket),
        timeoutSeconds: deps.proxyTimeoutSeconds,
        labels,
        allowedModels: serves.models ?? [],
        limits: deps.limits,
        maxConnections: deps.proxyMaxConnections,
      });
      await stage("proxy start", podman.api.run(spec));
      await waitUntilReady(sidecar, runDir);
    } catch (err) {
      await release();
      throw err;
    }
    // Read-only for the sandbox: it connects to the sidecar's socket there (a socket stays usable), and writes nothing.
    const mounts = relayDir ? [{ source: runDir, target: SANDBOX_RUN_DIR, readOnly: true }] : [];
    const env = { ...(relayDir ? INFERENCE_ENV : {}), ...(serves.broker ? EGRESS_ENV : {}) };
    return { pod, mounts, env, release, egress: serves.broker };
  }

  /** A restricted job's pod: its broker first, stopped with the pod (or when the pod could not be made). */
  async function placeRestricted(job: RunJobRequest, labels: Record<string, string>): Promise<Placement> {
    const broker = await startJobBroker(deps.mountRoot, job, deps.log);
    const models = job.sandbox.use_inference ? jobModels(job, deps.defaultModels) : undefined;
    const placement = await place(job.job_id, labels, { models, broker }).catch(async (err) => {
      await broker.stop();
      throw err;
    });
    return { ...placement, release: () => placement.release().finally(broker.stop) };
  }

  const placeJob: PlaceJob = (job) => {
    const labels = { "cynodeai.task_id": job.task_id, "cynodeai.job_id": job.job_id, [NODE_LABEL]: deps.nodeSlug };
    if (isRestricted(job)) return placeRestricted(job, labels);
    return place(job.job_id, labels, { models: jobModels(job, deps.defaultModels) });
  };
  // A warm pod: the same pod, sidecar and readiness, under the warm sandbox's own id and labels, the default models.
  placeJob.prepare = (id, labels) => place(id, labels, { models: deps.defaultModels });
  placeJob.podName = podName;
  placeJob.fitsWarm = (job) => sameModels(jobModels(job, deps.defaultModels), deps.defaultModels);
  return placeJob;
}
