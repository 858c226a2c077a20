/**
 * `just bench`: every measurement, system vs baseline side by side in this one invocation; prints ratios and
 * writes a JSON report to bench/results/. Usage: bun bench/run.ts [--runs N] [name...]
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { printComparison, type Comparison } from "./harness";
import { gatewayBench } from "./gateway.bench";
import { startupBench } from "./startup.bench";

const BENCHES: Record<string, (runs: number) => Promise<Comparison | Comparison[]>> = {
  startup: startupBench,
  gateway: gatewayBench,
};

const args = process.argv.slice(2);
const runsAt = args.indexOf("--runs");
const runs = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 5;
const names = args.length ? args : Object.keys(BENCHES);

const results: Comparison[] = [];
for (const name of names) {
  const bench = BENCHES[name];
  if (!bench) throw new Error(`unknown benchmark ${name}; known: ${Object.keys(BENCHES).join(", ")}`);
  for (const c of [await bench(runs)].flat()) {
    printComparison(c);
    results.push(c);
  }
}

const dir = join(import.meta.dir, "results");
await mkdir(dir, { recursive: true });
const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
await Bun.write(file, JSON.stringify({ at: new Date().toISOString(), runs, results }, null, 2));
console.log(`\nreport: ${file}`);
