/**
 * The node's single Ollama (contracts 3.1 step 8, 1.6): probe it by its API, or start the managed `cynodeai-ollama`
 * container the orchestrator asked for, wait until it answers, and pull the selected model in the background.
 */
import type { InferenceBackend } from "../../contracts/node-payloads";
import type { Logger } from "../../lib/log";
import { PRIVILEGE_FLAGS } from "../sandbox/container-spec";
import type { Podman } from "../sandbox/podman";

export const OLLAMA_CONTAINER = "cynodeai-ollama";
export const PROBE_TIMEOUT_MS = 2000;
const OLLAMA_PORT_IN_CONTAINER = 11434;

/** Model names from `GET /api/tags`, or undefined when nothing Ollama-like answers there. */
export async function probeOllama(
  baseUrl: string,
  doFetch: typeof fetch = fetch,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<string[] | undefined> {
  try {
    const res = await doFetch(`${baseUrl}/api/tags`, { signal: AbortSignal.timeout(timeoutMs) });
    if (res.status !== 200) return void (await res.body?.cancel());
    const body = (await res.json()) as { models?: { name?: string }[] };
    if (!Array.isArray(body.models)) return undefined;
    return body.models.map((m) => m.name).filter((n): n is string => typeof n === "string");
  } catch {
    return undefined;
  }
}

/** GPU access for the variant (or an image that names one): all devices of that kind. */
export function gpuFlags(variant: InferenceBackend["variant"], image: string): string[] {
  if (variant === "rocm" || /rocm/i.test(image)) return ["--device=/dev/kfd", "--device=/dev/dri", "--group-add=video"];
  if (variant === "cuda" || /cuda|nvidia/i.test(image)) return ["--device=nvidia.com/gpu=all"];
  return [];
}

export type OllamaContainerSpec = {
  name: string;
  image: string;
  /** Published on 127.0.0.1 only: Ollama is never on a public interface. */
  hostPort: number;
  modelsVolume: string;
  variant?: InferenceBackend["variant"];
  env?: Record<string, string>;
  labels: Record<string, string>;
};

export function ollamaRunArgs(spec: OllamaContainerSpec): string[] {
  if (spec.image.startsWith("-")) throw new Error(`invalid image name: ${spec.image}`);
  const env = Object.entries(spec.env ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return [
    "run",
    "--detach",
    `--name=${spec.name}`,
    `--pull=${spec.image.startsWith("localhost/") ? "never" : "missing"}`,
    // Least privilege: Ollama listens on an unprivileged port and writes only its own volume, so it needs no
    // capability at all (GPUs come as devices, not capabilities), and nothing in it may gain one.
    ...PRIVILEGE_FLAGS,
    `--publish=127.0.0.1:${spec.hostPort}:${OLLAMA_PORT_IN_CONTAINER}`,
    `--volume=${spec.modelsVolume}:/root/.ollama`,
    ...gpuFlags(spec.variant, spec.image),
    ...Object.entries(spec.labels).map(([k, v]) => `--label=${k}=${v}`),
    ...env.map(([k, v]) => `--env=${k}=${v}`),
    spec.image,
  ];
}

export type ManagedOllamaDeps = {
  podman: Podman;
  log: Logger;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** How many times to probe `/api/tags`, half a second apart, before giving up. */
  probeAttempts: number;
};

export type ManagedOllama = { url: string; models: string[]; stop(): Promise<void> };

/** Starts the container and waits until its API answers; removes it and throws with podman's words if it does not. */
export async function startManagedOllama(spec: OllamaContainerSpec, deps: ManagedOllamaDeps): Promise<ManagedOllama> {
  const { podman, log } = deps;
  const sleep = deps.sleep ?? Bun.sleep;
  const url = `http://127.0.0.1:${spec.hostPort}`;
  const remove = (grace: number) => podman.exec(["rm", "--force", "--ignore", `--time=${grace}`, spec.name]);
  // Nothing answered the probe, so a container of that name is a stopped or broken leftover; its models stay in the volume.
  await remove(0);
  log.info("starting the managed Ollama container", {
    name: spec.name,
    image: spec.image,
    variant: spec.variant ?? "cpu",
  });
  const started = await podman.exec(ollamaRunArgs(spec));
  if (started.exitCode !== 0) {
    await remove(0);
    throw new Error(`cannot start Ollama container ${spec.name} from ${spec.image}: ${started.stderr.trim()}`);
  }
  for (let attempt = 0; attempt < deps.probeAttempts; attempt++) {
    const models = await probeOllama(url, deps.fetch);
    if (models) return { url, models, stop: async () => void (await remove(5)) };
    await sleep(500);
  }
  const logs = await podman.exec(["logs", "--tail=20", spec.name]);
  await remove(0);
  throw new Error(
    `Ollama container ${spec.name} did not answer ${url}/api/tags: ${(logs.stdout + logs.stderr).trim()}`,
  );
}

/** `ollama pull` inside the managed container, not awaited: the node is usable while the model downloads. */
export function pullModelInBackground(podman: Podman, container: string, model: string, log: Logger): Promise<void> {
  log.info("pulling the selected model in the background", { model });
  return podman.exec(["exec", container, "ollama", "pull", model]).then((r) => {
    if (r.exitCode === 0) log.info("model pulled", { model });
    else log.warn("model pull failed", { model, error: r.stderr.trim().split("\n").slice(-3).join("\n") });
  });
}
