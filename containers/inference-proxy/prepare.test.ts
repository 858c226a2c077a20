import { afterAll, describe, expect, it } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startOllamaTestServer } from "../../src/testing/ollama-test-server";
import { createPodman } from "../../src/worker-node/sandbox/podman";
import { buildImage } from "../build-image";

const podman = createPodman({ containersConf: join(import.meta.dir, "..", "containers.conf") });
const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe("inference-proxy image (real podman)", () => {
  it("runs with no network, answers its healthcheck and proxies to a Unix-socket upstream", async () => {
    const { image } = await buildImage({ name: "inference-proxy", podman, log: () => {} });
    expect((await podman.exec(["run", "--rm", "--network=none", image, "--version"])).stdout).toMatch(
      /^\d+\.\d+\.\d+\+\w+/,
    );

    const upstreamDir = await tempDir("cynode-upstream-");
    const jobDir = await tempDir("cynode-job-run-");
    const upstream = await startOllamaTestServer({ socket: join(upstreamDir, "ollama.sock") });
    cleanup.push(() => upstream.stop());
    const name = `cynode-proxy-image-test-${process.pid}`;
    cleanup.push(() => podman.exec(["rm", "--force", "--time=0", name]));
    const started = await podman.exec([
      "run",
      "--detach",
      "--rm",
      `--name=${name}`,
      "--network=none",
      "--read-only",
      "--cap-drop=ALL",
      "--security-opt=no-new-privileges",
      `--mount=type=bind,source=${upstreamDir},target=/run/upstream`,
      `--mount=type=bind,source=${jobDir},target=/run/cynode`,
      "--env=OLLAMA_UPSTREAM_URL=unix:/run/upstream/ollama.sock",
      "--env=INFERENCE_PROXY_SOCKET=/run/cynode/inference-proxy.sock",
      "--env=INFERENCE_ALLOWED_MODELS=qwen3.5:0.8b",
      image,
    ]);
    expect(started.exitCode).toBe(0);

    // Readiness the way the worker probes it: exec the healthcheck mode until the proxy is up.
    const probe = () =>
      podman.exec(["exec", name, "/inference-proxy", "--healthcheck-url", "http://127.0.0.1:11434/healthz"]);
    let ready = await probe();
    for (let attempt = 0; ready.exitCode !== 0 && attempt < 50; attempt++) ready = await probe();
    expect(ready.exitCode).toBe(0);
    expect(
      (
        await podman.exec([
          "exec",
          name,
          "/inference-proxy",
          "--healthcheck-url",
          "unix:/run/cynode/inference-proxy.sock",
        ])
      ).exitCode,
    ).toBe(0);

    const socket = join(jobDir, "inference-proxy.sock");
    const res = await fetch("http://localhost/api/generate", {
      unix: socket,
      method: "POST",
      body: JSON.stringify({ model: "qwen3.5:0.8b", prompt: "from the sidecar" }),
    });
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.map((l) => l.response).join("")).toBe("echo: from the sidecar");
  }, 60_000);
});
