import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { join } from "node:path";
import { memoryLogger } from "../../lib/log";
import { ensureProxyImage, hostAddress, PROXY_IMAGE } from "../../testing/inference-runner";
import { testNodeConfig } from "../../testing/node-config";
import { startOllamaTestServer, type OllamaTestServer } from "../../testing/ollama-test-server";
import { testPodman } from "../../testing/sandbox-fixture";
import { DEFAULT_OLLAMA_IMAGE } from "../config";
import { prepareInference, type InferenceDeps } from "./service";
import { until } from "../../testing/until";

setDefaultTimeout(60_000);
const podman = testPodman();
let upstream: OllamaTestServer;

beforeAll(async () => {
  await ensureProxyImage(podman);
  upstream = await startOllamaTestServer({ port: 0, hostname: "0.0.0.0", models: ["m1"] });
}, 300_000);
afterAll(() => upstream.stop());

const closedPort = () => {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: () => {} } });
  s.stop(true);
  return s.port;
};

async function service(env: Record<string, string>, yaml = "", extra: Partial<InferenceDeps> = {}) {
  const config = await testNodeConfig({ yaml, env: { NODE_SLUG: "inf-node", ...env } });
  const log = memoryLogger("inference");
  return { inference: await prepareInference({ config, podman, log, ...extra }), log };
}

describe("prepareInference: what the node can offer", () => {
  it("offers nothing when inference.mode is disabled, and says why", async () => {
    const { inference } = await service({ OLLAMA_UPSTREAM_URL: upstream.url! }, "inference: { mode: disabled }\n");
    expect(await inference.capability()).toEqual({
      supported: false,
      mode: "disabled",
      existing_service: false,
      running: false,
    });
    await inference.start({ enabled: true });
    expect(inference.route()).toEqual({ unavailable: "inference.mode is disabled in the node configuration" });
    await inference.stop();
  });

  it("refuses to start in require mode without a sidecar image; in allow mode reports it unsupported", async () => {
    const missing = {
      INFERENCE_PROXY_IMAGE: "localhost/cynode-no-such-proxy:latest",
      OLLAMA_UPSTREAM_URL: upstream.url!,
    };
    await expect(service(missing, "inference: { mode: require }\n")).rejects.toThrow(
      "inference.mode is require, but the inference-proxy image localhost/cynode-no-such-proxy:latest is missing; build it with `just images`",
    );
    const { inference, log } = await service(missing, "", {
      buildProxyImage: () => Promise.reject(new Error("no compiler")),
    });
    expect(await inference.capability()).toMatchObject({ supported: false, running: false });
    expect(inference.route()).toEqual({
      unavailable:
        "the inference-proxy image localhost/cynode-no-such-proxy:latest is missing and building it failed: no compiler",
    });
    expect(log.lines.map((l) => l.msg)).toContain("inference unavailable on this node");
    let built = 0;
    const rebuilt = await service(missing, "", { buildProxyImage: async () => void built++ });
    expect([built, (await rebuilt.inference.capability()).supported]).toEqual([1, true]);
  });
});

describe("prepareInference: the Ollama it reuses or starts", () => {
  it("reuses an Ollama that already answers, relays to it, and never starts another", async () => {
    const { inference } = await service({
      OLLAMA_UPSTREAM_URL: upstream.url!,
      OLLAMA_IMAGE: "localhost/cynode-no-such-ollama:latest",
    });
    expect(await inference.capability()).toEqual({
      supported: true,
      mode: "allow",
      existing_service: true,
      running: true,
      available_models: ["m1"],
    });
    expect(inference.route()).toEqual({ unavailable: "inference has not been started on this node yet" });
    await inference.start({ enabled: true });
    const route = inference.route();
    if (!("relayDir" in route)) throw new Error("no relay");
    const tags = await fetch("http://localhost/api/tags", { unix: join(route.relayDir, "ollama.sock") });
    expect(((await tags.json()) as { models: unknown[] }).models).toHaveLength(1);
    await inference.stop();
    expect(inference.route()).toMatchObject({ unavailable: expect.any(String) });
  });

  it("without an Ollama: waits for the orchestrator's word, and fails the start when told to start one that cannot", async () => {
    const url = `http://127.0.0.1:${closedPort()}`;
    const idle = await service({ OLLAMA_UPSTREAM_URL: url });
    expect(await idle.inference.capability()).toEqual({
      supported: true,
      mode: "allow",
      existing_service: false,
      running: false,
    });
    await idle.inference.start({ enabled: false });
    expect(idle.inference.route()).toEqual({
      unavailable: `no Ollama answers at ${url} and the orchestrator did not ask this node to start one`,
    });

    const { inference } = await service(
      { OLLAMA_UPSTREAM_URL: url, OLLAMA_IMAGE: "localhost/cynode-no-such-ollama:latest" },
      "",
      { ollamaContainer: `cynode-ollama-svc-${crypto.randomUUID().slice(0, 8)}` },
    );
    await expect(inference.start({ enabled: true, variant: "cpu" })).rejects.toThrow("image not known");
  });

  it("starts the managed container when told to, relays to it, pulls the model, and stops it", async () => {
    const name = `cynode-ollama-svc-${crypto.randomUUID().slice(0, 8)}`;
    const { inference, log } = await service(
      { OLLAMA_UPSTREAM_URL: `http://127.0.0.1:${closedPort()}`, OLLAMA_MODELS_VOLUME: `${name}-models` },
      "",
      { ollamaContainer: name },
    );
    // Stand-in for ollama/ollama (no registry here): the proxy image serving the test double's API on port 11434.
    const env = {
      INFERENCE_PROXY_LISTEN: "0.0.0.0:11434",
      // The stand-in lists only the models it allows.
      INFERENCE_ALLOWED_MODELS: "m1",
      OLLAMA_UPSTREAM_URL: `http://${hostAddress()}:${new URL(upstream.url!).port}`,
    };
    try {
      await inference.start({ enabled: true, image: PROXY_IMAGE, env, selected_model: "m2" });
      expect(await inference.capability()).toEqual({
        supported: true,
        mode: "allow",
        existing_service: false,
        running: true,
        available_models: ["m1"],
      });
      expect(inference.route()).toHaveProperty("relayDir");
      await until(() => log.lines.some((l) => l.msg === "model pull failed"), "a `model pull failed` log line");
      await inference.stop();
      expect((await podman.exec(["container", "exists", name])).exitCode).toBe(1);
    } finally {
      await podman.exec(["rm", "--force", "--ignore", "--time=0", name]);
      await podman.exec(["volume", "rm", "--force", `${name}-models`]);
    }
  });
});

describe("prepareInference: the managed Ollama's container", () => {
  it("starts the managed Ollama from the node's ollama_image (pinned by default), with no capability", async () => {
    const runs: string[][] = [];
    // Records the `podman run` (no image is pullable here) and fails it; every other call goes to podman.
    const recording = {
      ...podman,
      exec: async (args: string[]) => {
        if (args[0] !== "run") return podman.exec(args);
        runs.push(args);
        return { exitCode: 125, stdout: "", stderr: "recorded" };
      },
    };
    const url = `http://127.0.0.1:${closedPort()}`;
    const ollamaContainer = `cynode-ollama-svc-${crypto.randomUUID().slice(0, 8)}`;
    for (const env of [{}, { OLLAMA_IMAGE: "quay.io/me/ollama:0.24.0" }] as Record<string, string>[]) {
      const { inference } = await service({ OLLAMA_UPSTREAM_URL: url, ...env }, "", {
        podman: recording,
        ollamaContainer,
      });
      await expect(inference.start({ enabled: true })).rejects.toThrow("recorded");
    }
    expect(runs.map((argv) => argv.at(-1))).toEqual([DEFAULT_OLLAMA_IMAGE, "quay.io/me/ollama:0.24.0"]);
    for (const argv of runs) {
      expect(argv).toContain("--cap-drop=ALL");
      expect(argv).toContain("--security-opt=no-new-privileges");
      expect(argv.filter((a) => a.startsWith("--publish="))).toEqual([
        `--publish=127.0.0.1:${new URL(url).port}:11434`,
      ]);
      expect(argv.some((a) => a.startsWith("--cap-add") || a === "--privileged")).toBe(false);
    }
  });
});
