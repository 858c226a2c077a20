/**
 * Inference job end to end: `cynork task create --command true --use-inference --result` against a warm
 * orchestrator and worker-node (pod, inference-proxy sidecar, sandbox) vs the naive pod sequence, cold, with the
 * command-line argv of podman-floor.ts: `pod create --network none`, the sidecar, the sandbox running `true`, and
 * `pod rm -f -t 0`.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { cynorkCreate, startWarmSystem } from "./dispatch.bench";
import { compare, type Comparison } from "./harness";
import { bareInferencePod } from "./podman-floor";
import { tempDir, type Cleanup } from "./services";

export async function inferenceJobBench(runs: number, cleanup: Cleanup): Promise<Comparison[]> {
  const dir = await tempDir(cleanup, "inference-job");
  const dirs = { runDir: join(dir, "run"), relayDir: join(dir, "relay") };
  await Promise.all(Object.values(dirs).map((d) => mkdir(d, { recursive: true })));
  const { orch, token } = await startWarmSystem(cleanup, 4);
  const c = await compare(
    "inference-job: cynork task create --command true --use-inference --result vs the naive pod sequence (pod create --network none + sidecar + sandbox + pod rm)",
    {
      runs,
      system: async () => {
        const r = await cynorkCreate(orch.gatewayUrl, token, dir, ["--use-inference"]);
        return r.t1 - r.t0;
      },
      baseline: async () => {
        const t = performance.now();
        await bareInferencePod(dirs);
        return performance.now() - t;
      },
    },
  );
  return [c];
}
