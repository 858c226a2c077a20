/**
 * Measurement 2, inference-proxy overhead: the same /api/generate requests straight to the Ollama-compatible test
 * double vs through the inference-proxy. From the host: the compiled proxy as a process, upstream over TCP. From
 * inside a pod: a no-network pod with the proxy image as sidecar (upstream = the double's Unix socket, mounted in,
 * as on a node); a client container in the same pod compares the socket itself with the sidecar's 127.0.0.1:11434.
 * Small non-streamed requests: latency p50/p99; a streamed ~1 MB reply: throughput.
 */
import { realpathSync } from "node:fs";
import { join } from "node:path";
import { stats, type Comparison } from "./harness";
import { MODEL, measurePaths, tcp, type PathMeasurements } from "./inference-load";
import { PROXY_IMAGE } from "./podman-floor";
import {
  bin,
  CONTAINERS_CONF,
  logLine,
  ROOT,
  startOllamaDouble,
  startService,
  tempDir,
  type Cleanup,
} from "./services";

function comparisons(where: string, m: PathMeasurements): Comparison[] {
  const system = stats(m.small.proxied);
  const baseline = stats(m.small.direct);
  const sys = stats(m.stream.proxied);
  const base = stats(m.stream.direct);
  return [
    {
      name: `inference (${where}): small /api/generate (stream=false), sequential, via inference-proxy vs direct`,
      unit: "ms",
      system,
      baseline,
      ratio: system.median / baseline.median,
      notes: {
        "added latency p50 (ms)": system.median - baseline.median,
        "added latency p99 (ms)": system.p99 - baseline.p99,
        "p99 ratio": system.p99 / baseline.p99,
      },
    },
    {
      name: `inference (${where}): streamed ~1 MB /api/generate reply, via inference-proxy vs direct (ratio = throughput proxied/direct)`,
      unit: "MB/s",
      system: sys,
      baseline: base,
      ratio: sys.median / base.median,
    },
  ];
}

async function fromHost(runs: number, cleanup: Cleanup): Promise<Comparison[]> {
  const direct = await startOllamaDouble(cleanup);
  const proxy = startService(cleanup, [bin("inference-proxy")], {
    INFERENCE_PROXY_LISTEN: "127.0.0.1:0",
    OLLAMA_UPSTREAM_URL: direct,
    INFERENCE_ALLOWED_MODELS: MODEL,
    LOG_LEVEL: "info",
  });
  const proxied = String((await logLine(proxy, "listening")).tcp).replace(/\/$/, "");
  proxy.mute();
  return comparisons("host", await measurePaths(tcp(direct), tcp(proxied), runs, 200));
}

async function podman(args: string[]): Promise<string> {
  const p = Bun.spawn(["podman", ...args], {
    env: { ...process.env, CONTAINERS_CONF },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`podman ${args[0]} exited ${code}: ${err.trim()}`);
  return out;
}

async function fromPod(runs: number, cleanup: Cleanup): Promise<Comparison[]> {
  const dir = await tempDir(cleanup, "pod");
  await startOllamaDouble(cleanup, join(dir, "ollama.sock"));
  const pod = `cynode-bench-pod-${crypto.randomUUID().slice(0, 8)}`;
  const upstream = `--mount=type=bind,source=${dir},target=/run/upstream`;
  await podman(["pod", "create", `--name=${pod}`, "--network=none"]);
  cleanup.add(() => podman(["pod", "rm", "-f", "-t", "0", pod]));
  // The sidecar runs the benchmarked build's proxy (dist/bin or CYNODE_BENCH_BIN_DIR) in the image's root filesystem.
  await podman([
    "run",
    "-d",
    `--pod=${pod}`,
    `--name=${pod}-proxy`,
    upstream,
    `--mount=type=bind,source=${realpathSync(bin("inference-proxy"))},target=/inference-proxy,ro`,
    "--env=INFERENCE_PROXY_LISTEN=127.0.0.1:11434",
    "--env=OLLAMA_UPSTREAM_URL=unix:/run/upstream/ollama.sock",
    `--env=INFERENCE_ALLOWED_MODELS=${MODEL}`,
    "--env=LOG_LEVEL=info",
    PROXY_IMAGE,
  ]);
  // The client is bun itself, run from the proxy image (it carries the glibc files a bun executable links).
  const out = await podman([
    "run",
    "--rm",
    `--pod=${pod}`,
    upstream,
    "--tmpfs=/tmp",
    "--env=HOME=/tmp",
    `--mount=type=bind,source=${realpathSync(process.execPath)},target=/usr/local/bin/bun,ro`,
    `--mount=type=bind,source=${join(ROOT, "bench")},target=/bench,ro`,
    "--entrypoint=/usr/local/bin/bun",
    PROXY_IMAGE,
    "/bench/pod-client.ts",
    "/run/upstream/ollama.sock",
    String(runs),
  ]);
  return comparisons("in a pod", JSON.parse(out.trim().split("\n").pop()!));
}

export async function inferenceBench(runs: number, cleanup: Cleanup): Promise<Comparison[]> {
  return [...(await fromHost(runs, cleanup)), ...(await fromPod(runs, cleanup))];
}
