/** The Worker Telemetry API's node facts: identity and build (node:info), resource usage right now (node:stats). */
import { statfs } from "node:fs/promises";
import { cpus, freemem, loadavg, release, totalmem } from "node:os";
import type { NodeCapabilityReport } from "../../contracts/node-payloads";
import type { NodeInfo, NodeStats } from "../../contracts/telemetry";
import { rfc3339 } from "../../lib/rfc3339";
import { VERSION } from "../../lib/version";

const MB = 1048576;

export function nodeInfo(slug: string, last: NodeCapabilityReport | undefined): NodeInfo {
  const [build, sha = "dev"] = VERSION.split("+");
  return {
    version: 1,
    node_slug: slug,
    build: { build_version: build!, git_sha: sha },
    platform: {
      os: last?.platform.os ?? process.platform,
      arch: last?.platform.arch ?? process.arch,
      kernel_version: last?.platform.kernel_version ?? release(),
    },
    ...(last ? { last_capability_report: last } : {}),
  };
}

export async function nodeStats(opts: { stateDir: string; podmanVersion: string; now: Date }): Promise<NodeStats> {
  const [load1, load5, load15] = loadavg() as [number, number, number];
  const disk = await statfs(opts.stateDir);
  const total = Math.floor(totalmem() / MB);
  const free = Math.floor(freemem() / MB);
  return {
    version: 1,
    captured_at: rfc3339(opts.now),
    cpu: { cores: cpus().length, load1, load5, load15 },
    memory: { total_mb: total, used_mb: total - free, free_mb: free },
    disk: {
      state_dir_free_mb: Math.floor((disk.bavail * disk.bsize) / MB),
      state_dir_total_mb: Math.floor((disk.blocks * disk.bsize) / MB),
    },
    container_runtime: { runtime: "podman", version: opts.podmanVersion },
  };
}
