import { describe, expect, it } from "bun:test";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { NodeCapabilityReport } from "../../contracts/node-payloads";
import { loadNodeConfig } from "../config";
import { advertisedWorkerUrl, collectCapabilities, parseNvidiaSmi, parseRocmSmi, runCommand } from "./capabilities";

async function config(yaml = "") {
  const dir = await mkdtemp(join(tmpdir(), "cynode-cap-"));
  await writeFile(join(dir, "node.yaml"), yaml);
  return loadNodeConfig({
    path: join(dir, "node.yaml"),
    env: { NODE_REGISTRATION_PSK: "p", CYNODE_STATE_DIR: dir, NODE_SLUG: "cap-node" },
  });
}

describe("GPU output parsing", () => {
  it("reads nvidia-smi CSV lines", () => {
    expect(parseNvidiaSmi("NVIDIA GeForce RTX 4090, 24564\n\n")).toEqual([
      { vendor: "NVIDIA", model: "NVIDIA GeForce RTX 4090", vram_mb: 24564, features: { cuda_capability: "unknown" } },
    ]);
  });
  it("reads rocm-smi JSON cards and ignores garbage", () => {
    const json = JSON.stringify({
      card0: { "Card series": "Radeon RX 7900 XTX", "VRAM Total Memory (B)": "25753026560" },
      system: {},
    });
    expect(parseRocmSmi(json)).toEqual([
      { vendor: "AMD", model: "Radeon RX 7900 XTX", vram_mb: 24560, features: { rocm_version: "unknown" } },
    ]);
    expect(parseRocmSmi("not json")).toEqual([]);
  });
});

describe("runCommand", () => {
  it("returns stdout of a successful command and undefined otherwise", async () => {
    expect(await runCommand(["echo", "x"])).toBe("x\n");
    expect(await runCommand(["false"])).toBeUndefined();
    expect(await runCommand(["cynode-no-such-tool"])).toBeUndefined();
  });
});

describe("collectCapabilities", () => {
  it("reports real CPU, RAM, disk and platform facts in the contract's shape", async () => {
    const cfg = await config("node: { labels: [sandbox_only] }\n");
    const report = await collectCapabilities({
      config: cfg,
      podmanVersion: "4.3.1",
      workerApiUrl: "http://n:12090",
      now: () => new Date("2026-03-01T10:00:00.500Z"),
    });
    expect(v.parse(NodeCapabilityReport, report)).toBeDefined();
    expect(report).toMatchObject({
      reported_at: "2026-03-01T10:00:00Z",
      node: { node_slug: "cap-node", labels: ["sandbox_only"] },
      container_runtime: { runtime: "podman", version: "4.3.1" },
      sandbox: { supported: true, max_concurrency: 4 },
      worker_api: { base_url: "http://n:12090" },
    });
    expect(report.compute.cpu_cores).toBeGreaterThan(0);
    expect(report.compute.ram_mb).toBeGreaterThan(100);
    expect(report.compute.storage_free_mb).toBeGreaterThan(0);
  });

  it("lists GPUs that nvidia-smi reports", async () => {
    const run = async (argv: string[]) => (argv[0] === "nvidia-smi" ? "Tesla T4, 15360\n" : undefined);
    const report = await collectCapabilities({
      config: await config(),
      podmanVersion: "4",
      workerApiUrl: "http://n",
      now: () => new Date(),
      run,
    });
    expect(report.gpu).toEqual({
      present: true,
      devices: [{ vendor: "NVIDIA", model: "Tesla T4", vram_mb: 15360, features: { cuda_capability: "unknown" } }],
    });
  });
});

describe("advertisedWorkerUrl", () => {
  it("prefers the configured public URL, else the listen host (the host name for a wildcard)", async () => {
    expect(advertisedWorkerUrl(await config("worker_api: { public_base_url: 'http://a:1/' }"), 9)).toBe("http://a:1");
    expect(advertisedWorkerUrl(await config("worker_api: { listen_host: 10.0.0.5 }"), 9)).toBe("http://10.0.0.5:9");
    expect(advertisedWorkerUrl(await config(), 12090)).toMatch(/^http:\/\/[^/]+:12090$/);
  });
});
