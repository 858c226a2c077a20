import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import type { RunJobRequest } from "../../contracts/worker-api";
import { startOllamaTestServer, type OllamaTestServer } from "../../testing/ollama-test-server";
import { NODE_LABEL } from "../sandbox/job-sandbox";
import { ensureSandboxImage, SANDBOX_IMAGE, testPodman } from "../../testing/sandbox-fixture";
import { jobModels, podName, removeLeftoverPods, sameModels, sidecarSpec } from "./pod";
import { createBody } from "../sandbox/libpod";
import { ensureProxyImage, startInferenceRunner } from "../../testing/inference-runner";

setDefaultTimeout(60_000);
const podman = testPodman();
let upstream: OllamaTestServer;

beforeAll(async () => {
  await Promise.all([ensureSandboxImage(podman), ensureProxyImage(podman)]);
  upstream = await startOllamaTestServer({ port: 0 });
}, 300_000);
afterAll(() => upstream.stop());

const job = (): RunJobRequest => {
  const id = crypto.randomUUID();
  return {
    version: 1,
    task_id: `task-${id}`,
    job_id: id,
    sandbox: { command: ["echo", "never runs"], use_inference: true },
  };
};

describe("the sidecar's spec", () => {
  it("is a hardened member of its pod whose upstream mount is read-only", () => {
    const spec = sidecarSpec({
      name: "s",
      pod: "p",
      image: "localhost/x:1",
      runDir: "/m/j/run",
      relayDir: "/state/relay",
      timeoutSeconds: 7,
      labels: { a: "1" },
      allowedModels: ["qwen3.5:0.8b", "llama3"],
      limits: { maxTokens: 100, maxContext: 2048, keepAlive: "1m" },
      maxConnections: 3,
    });
    const body = createBody(spec);
    expect(body).toMatchObject({
      pod: "p",
      cap_drop: ["ALL"],
      no_new_privileges: true,
      read_only_filesystem: true,
      labels: { a: "1" },
      image: "localhost/x:1",
      remove: false,
    });
    expect(body.mounts).toContainEqual({
      destination: "/run/cynode",
      type: "bind",
      source: "/m/j/run",
      options: ["rbind", "rw", "U"],
    });
    expect(body.mounts).toContainEqual({
      destination: "/run/upstream",
      type: "bind",
      source: "/state/relay",
      options: ["rbind", "ro"],
    });
    expect(spec.env).toMatchObject({
      OLLAMA_UPSTREAM_URL: "unix:/run/upstream/ollama.sock",
      INFERENCE_PROXY_TIMEOUT: "7s",
      INFERENCE_ALLOWED_MODELS: "qwen3.5:0.8b,llama3",
      INFERENCE_MAX_TOKENS: "100",
      INFERENCE_MAX_CONTEXT: "2048",
      INFERENCE_MAX_KEEP_ALIVE: "1m",
      INFERENCE_PROXY_MAX_CONNECTIONS: "3",
    });
  });
});

describe("the models a job's sidecar allows", () => {
  const job = (allowed?: string[]) => ({
    version: 1 as const,
    task_id: "t",
    job_id: "j",
    sandbox: { command: ["true"], use_inference: true },
    ...(allowed ? { inference: { allowed_models: allowed } } : {}),
  });
  it("are the job's own, else the node's default", () => {
    expect(jobModels(job(["a:1"]), ["d"])).toEqual(["a:1"]);
    expect(jobModels(job(), ["d"])).toEqual(["d"]);
  });
  it("match another list when both allow the same models, name and name:latest being one", () => {
    expect(sameModels(["llama3", "q:1"], ["q:1", "llama3:latest"])).toBe(true);
    expect(sameModels(["llama3"], ["llama3", "q:1"])).toBe(false);
    expect(sameModels(["q:1"], ["q:2"])).toBe(false);
  });
});

describe("inference placement failures (real podman)", () => {
  it("fails a job on a node without inference with the reason, and creates nothing", async () => {
    const env = await startInferenceRunner({
      podman,
      upstreamUrl: upstream.url!,
      placement: { route: () => ({ unavailable: "inference.mode is disabled in the node configuration" }) },
    });
    try {
      expect(await env.runner.run(job())).toMatchObject({
        status: "failed",
        exit_code: -1,
        stderr:
          "sandbox placement failed: this node cannot run inference jobs: inference.mode is disabled in the node configuration",
      });
      expect(await env.leftovers()).toEqual([]);
    } finally {
      await env.stop();
    }
  });

  it("names the stage that failed: pod create, proxy start, proxy readiness — and removes the pod", async () => {
    const env = await startInferenceRunner({
      podman,
      upstreamUrl: upstream.url!,
      placement: { proxyImage: "localhost/cynode-no-such-proxy:latest" },
    });
    try {
      const res = await env.runner.run(job());
      expect(res).toMatchObject({ status: "failed", exit_code: -1 });
      expect(res.stderr).toStartWith("sandbox placement failed: proxy start: ");
      expect(res.stderr).toContain("image not known");
      expect(await env.leftovers()).toEqual([]);

      // A pod of that name already exists (not labelled as this node's): creating the job's pod fails.
      const clash = job();
      expect((await podman.exec(["pod", "create", `--name=${podName(clash.job_id)}`])).exitCode).toBe(0);
      const created = await env.runner.run(clash);
      expect(created.stderr).toStartWith("sandbox placement failed: pod create: ");
      expect((await podman.exec(["pod", "exists", podName(clash.job_id)])).exitCode).toBe(1);
    } finally {
      await env.stop();
    }
    // A sidecar that never serves (here: an image whose command exits at once) fails readiness with its logs.
    const silent = await startInferenceRunner({
      podman,
      upstreamUrl: upstream.url!,
      placement: { proxyImage: SANDBOX_IMAGE, sleep: async () => {} },
    });
    try {
      const res = await silent.runner.run(job());
      expect(res.stderr).toStartWith(
        "sandbox placement failed: proxy readiness: the inference proxy did not become ready",
      );
      expect(await silent.leftovers()).toEqual([]);
    } finally {
      await silent.stop();
    }
  });
});

describe("removeLeftoverPods (real podman)", () => {
  const rmPods = (names: string[]) => podman.exec(["pod", "rm", "--force", "--ignore", "--time=0", ...names]);
  it("removes this node's pods only", async () => {
    const slug = `leftover-${crypto.randomUUID().slice(0, 8)}`;
    const mine = `cynodeai-pod-leftover-${crypto.randomUUID()}`;
    const other = `cynodeai-pod-other-${crypto.randomUUID()}`;
    await podman.api.createPod(mine, { [NODE_LABEL]: slug });
    await podman.api.createPod(other, { [NODE_LABEL]: "someone-else" });
    try {
      expect(await removeLeftoverPods(podman, slug)).toEqual([mine]);
      expect((await podman.exec(["pod", "exists", other])).exitCode).toBe(0);
      expect(await removeLeftoverPods(podman, slug)).toEqual([]);
    } finally {
      await rmPods([mine, other]);
    }
    const api = { ...podman.api, listPods: () => Promise.reject(new Error("boom")) };
    await expect(removeLeftoverPods({ ...podman, api }, slug)).rejects.toThrow("listing pods failed: boom");
  });

  it("tolerates a pod that is gone between the listing and its removal", async () => {
    const slug = `leftover-${crypto.randomUUID().slice(0, 8)}`;
    const real = `cynodeai-pod-leftover-${crypto.randomUUID()}`;
    const gone = `cynodeai-pod-gone-${crypto.randomUUID()}`;
    await podman.api.createPod(real, { [NODE_LABEL]: slug });
    // Another node (or the job's own clean-up) removed `gone` after podman listed it.
    const api = {
      ...podman.api,
      listPods: async (l: Record<string, string>) => [...(await podman.api.listPods(l)), gone],
    };
    try {
      expect(await removeLeftoverPods({ ...podman, api }, slug)).toEqual([real, gone]);
      expect((await podman.exec(["pod", "exists", real])).exitCode).toBe(1);
    } finally {
      await rmPods([real]);
    }
  });
});
