/**
 * `just bench`: every measurement, system vs baseline side by side in this one invocation; prints ratios and
 * writes a JSON report to bench/results/. Usage: bun bench/run.ts [--runs N] [name...]
 * (names: dispatch, inference-job, inference, scale, startup, gateway, cluster, agent)
 * Everything started (processes, state dirs, containers) is removed at the end, on failure and on Ctrl+C too.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { agentBench } from "./agent.bench";
import { clusterBench } from "./cluster.bench";
import { printComparison, type Comparison } from "./harness";
import { dispatchBench } from "./dispatch.bench";
import { gatewayBench } from "./gateway.bench";
import { inferenceBench } from "./inference.bench";
import { inferenceJobBench } from "./inference-job.bench";
import { removeBareContainers } from "./podman-floor";
import { scaleBench } from "./scale.bench";
import { createCleanup, type Cleanup } from "./services";
import { startupBench } from "./startup.bench";

const BENCHES: Record<string, (runs: number, cleanup: Cleanup) => Promise<Comparison | Comparison[]>> = {
  dispatch: dispatchBench,
  "inference-job": inferenceJobBench,
  inference: inferenceBench,
  scale: (_runs, cleanup) => scaleBench(cleanup),
  startup: startupBench,
  gateway: gatewayBench,
  cluster: (_runs, cleanup) => clusterBench(cleanup),
  agent: agentBench,
};

const args = process.argv.slice(2);
const runsAt = args.indexOf("--runs");
const runs = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 5;
const names = args.length ? args : Object.keys(BENCHES);
for (const name of names)
  if (!BENCHES[name]) throw new Error(`unknown benchmark ${name}; known: ${Object.keys(BENCHES).join(", ")}`);

const interrupted = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => interrupted.abort());

const results: Comparison[] = [];
let failed = false;
for (const name of names) {
  if (interrupted.signal.aborted) break;
  const cleanup = createCleanup();
  const onAbort = () => void cleanup.run().then(() => process.exit(130));
  interrupted.signal.addEventListener("abort", onAbort, { once: true });
  const started = performance.now();
  try {
    for (const c of [await BENCHES[name]!(runs, cleanup)].flat()) {
      printComparison(c);
      results.push(c);
    }
  } catch (err) {
    failed = true;
    console.error(`\n${name}: FAILED: ${(err as Error).stack ?? err}`);
  } finally {
    await cleanup.run();
    await removeBareContainers();
    interrupted.signal.removeEventListener("abort", onAbort);
    console.log(`  (${name}: ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
}

const dir = join(import.meta.dir, "results");
await mkdir(dir, { recursive: true });
const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
await Bun.write(file, JSON.stringify({ at: new Date().toISOString(), runs, results }, null, 2));
console.log(`\nreport: ${file}`);
console.log("\nratios (system median / baseline median):");
for (const c of results) console.log(`  ${c.ratio.toFixed(2)}x  ${c.name}`);
if (failed) process.exit(1);
