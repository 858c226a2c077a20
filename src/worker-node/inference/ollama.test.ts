import { freePort } from "../../testing/free-port";
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { memoryLogger } from "../../lib/log";
import { startOllamaTestServer, type OllamaTestServer } from "../../testing/ollama-test-server";
import { ensureSandboxImage, SANDBOX_IMAGE, testPodman } from "../../testing/sandbox-fixture";
import { gpuFlags, ollamaRunArgs, probeOllama, pullModelInBackground, startManagedOllama } from "./ollama";
import { ensureProxyImage, hostAddress, PROXY_IMAGE } from "../../testing/inference-runner";

setDefaultTimeout(60_000);
const podman = testPodman();
let upstream: OllamaTestServer;

beforeAll(async () => {
  await Promise.all([ensureSandboxImage(podman), ensureProxyImage(podman)]);
  upstream = await startOllamaTestServer({ port: 0, hostname: "0.0.0.0", models: ["m1", "m2"] });
}, 300_000);
afterAll(() => upstream.stop());

const noSleep = async () => {};

describe("probeOllama", () => {
  it("lists the models of an Ollama-compatible API, and nothing for anything else", async () => {
    expect(await probeOllama(`http://127.0.0.1:${new URL(upstream.url!).port}`)).toEqual(["m1", "m2"]);
    expect(await probeOllama(`http://127.0.0.1:${freePort()}`)).toBeUndefined();
    const other = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req) => (new URL(req.url).search ? new Response("no", { status: 404 }) : Response.json({ hello: 1 })),
    });
    try {
      expect(await probeOllama(`http://127.0.0.1:${other.port}`)).toBeUndefined();
      expect(await probeOllama(`http://127.0.0.1:${other.port}/api/tags?`)).toBeUndefined();
    } finally {
      await other.stop(true);
    }
  });
});

describe("managed Ollama container argv", () => {
  const spec = {
    name: "cynodeai-ollama",
    image: "ollama/ollama",
    hostPort: 11434,
    modelsVolume: "vol",
    labels: { "cynodeai.node": "n1" },
  };
  it("publishes on loopback only, with no capability, keeps models in a volume, sorts env, pulls only registry images", () => {
    expect(ollamaRunArgs({ ...spec, env: { B: "2", A: "1" } })).toEqual([
      "run",
      "--detach",
      "--name=cynodeai-ollama",
      "--pull=missing",
      "--cap-drop=ALL",
      "--security-opt=no-new-privileges",
      "--publish=127.0.0.1:11434:11434",
      "--volume=vol:/root/.ollama",
      "--label=cynodeai.node=n1",
      "--env=A=1",
      "--env=B=2",
      "ollama/ollama",
    ]);
    expect(ollamaRunArgs({ ...spec, image: "localhost/o:1" })).toContain("--pull=never");
    expect(() => ollamaRunArgs({ ...spec, image: "--privileged" })).toThrow("invalid image name");
  });
  it("grants the GPUs of the variant, or of an image that names one", () => {
    expect(gpuFlags("cuda", "ollama/ollama")).toEqual(["--device=nvidia.com/gpu=all"]);
    expect(gpuFlags("cpu", "ollama/ollama:rocm")).toEqual([
      "--device=/dev/kfd",
      "--device=/dev/dri",
      "--group-add=video",
    ]);
    expect(gpuFlags("rocm", "x")).toEqual(gpuFlags(undefined, "rocm"));
    expect(gpuFlags("cpu", "ollama/ollama")).toEqual([]);
    expect(gpuFlags(undefined, "x")).toEqual([]);
  });
});

describe("startManagedOllama (real podman)", () => {
  const spec = (name: string, image: string, env: Record<string, string> = {}) => ({
    name,
    image,
    hostPort: freePort(),
    modelsVolume: `${name}-models`,
    env,
    labels: { "cynodeai.node": "ollama-test" },
  });
  const cleanup = (name: string) =>
    podman
      .exec(["rm", "--force", "--ignore", "--time=0", name])
      .then(() => podman.exec(["volume", "rm", "--force", `${name}-models`]));

  it("fails with podman's words when the image is missing, and leaves no container", async () => {
    const name = `cynode-ollama-test-${crypto.randomUUID().slice(0, 8)}`;
    const started = startManagedOllama(spec(name, "localhost/cynode-no-such-ollama:latest"), {
      podman,
      log: memoryLogger(),
      probeAttempts: 1,
    });
    await expect(started).rejects.toThrow(
      `cannot start Ollama container ${name} from localhost/cynode-no-such-ollama:latest: Error: localhost/cynode-no-such-ollama:latest: image not known`,
    );
    await started.catch(() => {});
    expect((await podman.exec(["container", "exists", name])).exitCode).toBe(1);
    await cleanup(name);
  });

  it("gives up on a container that never answers /api/tags, with its logs", async () => {
    const name = `cynode-ollama-test-${crypto.randomUUID().slice(0, 8)}`;
    const started = startManagedOllama(spec(name, SANDBOX_IMAGE), {
      podman,
      log: memoryLogger(),
      probeAttempts: 2,
      sleep: noSleep,
    });
    await expect(started).rejects.toThrow(`Ollama container ${name} did not answer`);
    await started.catch(() => {});
    expect((await podman.exec(["container", "exists", name])).exitCode).toBe(1);
    await cleanup(name);
  });

  it("starts, waits for the API, pulls in the background, and stops", async () => {
    // Stand-in for ollama/ollama (no registry here): the proxy image serving the test double's API on port 11434.
    const name = `cynode-ollama-test-${crypto.randomUUID().slice(0, 8)}`;
    const env = {
      INFERENCE_PROXY_LISTEN: "0.0.0.0:11434",
      // The stand-in lists only the models it allows.
      INFERENCE_ALLOWED_MODELS: "m1,m2",
      OLLAMA_UPSTREAM_URL: `http://${hostAddress()}:${new URL(upstream.url!).port}`,
    };
    const log = memoryLogger();
    try {
      const managed = await startManagedOllama(spec(name, PROXY_IMAGE, env), { podman, log, probeAttempts: 60 });
      expect(managed.models).toEqual(["m1", "m2"]);
      expect(await probeOllama(managed.url)).toEqual(["m1", "m2"]);
      // The stand-in has no `ollama` binary, so the pull fails — and says so in the log, without stopping anything.
      await pullModelInBackground(podman, name, "m3", log);
      expect(log.lines.find((l) => l.msg === "model pull failed")).toMatchObject({ model: "m3" });
      await managed.stop();
      expect((await podman.exec(["container", "exists", name])).exitCode).toBe(1);
    } finally {
      await cleanup(name);
    }
  });
});
