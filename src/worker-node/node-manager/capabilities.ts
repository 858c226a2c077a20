/** The node's capability report (contracts 2.1) from real facts: CPU, RAM, free disk, GPUs, podman version. */
import { rfc3339 } from "../../lib/rfc3339";
import { statfs } from "node:fs/promises";
import { arch, cpus, hostname, platform, release, totalmem } from "node:os";
import type { NodeCapabilityReport } from "../../contracts/node-payloads";
import { wantsClusterCertificate } from "./worker-api-certificate";
import type { NodeConfig } from "../config";

type Gpu = NonNullable<NodeCapabilityReport["gpu"]>;
type GpuDevice = NonNullable<Gpu["devices"]>[number];
/** Runs a command and returns its stdout, or undefined when it is absent or fails. */
export type RunCommand = (argv: string[]) => Promise<string | undefined>;

export const runCommand: RunCommand = async (argv) => {
  if (!Bun.which(argv[0]!)) return undefined;
  const p = Bun.spawn(argv, {
    stdout: "pipe",
    stderr: "ignore",
    stdin: "ignore",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
  });
  const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  return code === 0 ? out : undefined;
};

/** `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits` lines. */
export function parseNvidiaSmi(out: string): GpuDevice[] {
  return out
    .split("\n")
    .filter((l) => l.trim())
    .map((line) => {
      const [model, mem] = line.split(",").map((s) => s.trim());
      return {
        vendor: "NVIDIA",
        model,
        vram_mb: Number.parseInt(mem ?? "", 10) || undefined,
        features: { cuda_capability: "unknown" },
      };
    });
}

/** `rocm-smi --showproductname --showmeminfo vram --json`: one object per card. */
export function parseRocmSmi(out: string): GpuDevice[] {
  let doc: Record<string, Record<string, string>>;
  try {
    doc = JSON.parse(out);
  } catch {
    return [];
  }
  return Object.entries(doc)
    .filter(([k]) => k.startsWith("card"))
    .map(([, card]) => {
      const total = Object.entries(card).find(([k]) => /vram total memory/i.test(k))?.[1];
      const model = card["Card series"] ?? card["Card model"] ?? card["Card SKU"];
      return {
        vendor: "AMD",
        model,
        vram_mb: total ? Math.round(Number(total) / 1048576) : undefined,
        features: { rocm_version: "unknown" },
      };
    });
}

async function detectGpu(run: RunCommand): Promise<Gpu> {
  const nvidia = await run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"]);
  const rocm = await run(["rocm-smi", "--showproductname", "--showmeminfo", "vram", "--json"]);
  const devices = [...(nvidia ? parseNvidiaSmi(nvidia) : []), ...(rocm ? parseRocmSmi(rocm) : [])];
  return devices.length ? { present: true, devices } : { present: false };
}

async function distro(): Promise<string | undefined> {
  const text = await Bun.file("/etc/os-release")
    .text()
    .catch(() => "");
  return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1];
}

const GO_ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386" };

export type CapabilityDeps = {
  config: NodeConfig;
  podmanVersion: string;
  workerApiUrl: string;
  now: () => Date;
  run?: RunCommand;
  /** What the inference side can do right now; without it the node offers none. */
  inference?: NonNullable<NodeCapabilityReport["inference"]>;
};

export async function collectCapabilities({
  config,
  podmanVersion,
  workerApiUrl,
  now,
  run = runCommand,
  inference,
}: CapabilityDeps): Promise<NodeCapabilityReport> {
  const cpuList = cpus();
  const disk = await statfs(config.storage.state_dir).catch(() => undefined);
  return {
    version: 1,
    reported_at: rfc3339(now()),
    node: { node_slug: config.node.id, name: config.node.name, labels: config.node.labels },
    platform: { os: platform(), distro: await distro(), arch: GO_ARCH[arch()] ?? arch(), kernel_version: release() },
    container_runtime: {
      runtime: "podman",
      version: podmanVersion,
      rootless_supported: true,
      rootless_enabled: process.getuid?.() !== 0,
    },
    compute: {
      cpu_model: cpuList[0]?.model,
      cpu_cores: cpuList.length,
      ram_mb: Math.floor(totalmem() / 1048576),
      storage_free_mb: disk ? Math.floor((disk.bavail * disk.bsize) / 1048576) : undefined,
    },
    gpu: await detectGpu(run),
    sandbox: {
      supported: config.sandbox.mode !== "disabled",
      features: ["netns", "cgroups"],
      max_concurrency: config.sandbox.max_concurrency,
    },
    network: { orchestrator_reachable: true, outbound_policy: "none" },
    inference: inference ?? { supported: false, mode: config.inference.mode, existing_service: false, running: false },
    worker_api: { base_url: workerApiUrl },
  };
}

/** The URL the orchestrator should dispatch to: configured, else this host's listen address. */
export function advertisedWorkerUrl(config: NodeConfig, port: number): string {
  const tls = Boolean(config.worker_api.tls) || wantsClusterCertificate(config);
  if (config.worker_api.public_base_url) {
    const url = config.worker_api.public_base_url.replace(/\/+$/, "");
    return tls ? url.replace(/^http:/i, "https:") : url;
  }
  const host = config.worker_api.listen_host;
  return `${tls ? "https" : "http"}://${host === "0.0.0.0" || host === "::" ? hostname() : host}:${port}`;
}
