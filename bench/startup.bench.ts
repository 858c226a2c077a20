/**
 * Measurement 4, start-up. (a) The compiled orchestrator answering on an existing embedded data dir vs the floor:
 * the same Postgres server starting on the same data dir by itself (same start code, src/orchestrator/db).
 * Each orchestrator run must end with a clean exit 0, so no orphaned Postgres is left for the next run to reap
 * (that used to be billed to the baseline). (b) worker-node start → "node ready" (config acked: dispatchable)
 * vs the one sandbox container its start-up check must run.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../src/lib/log";
import { startEmbeddedPostgres } from "../src/orchestrator/db/embedded-postgres";
import { compare, type Comparison } from "./harness";
import { bareRun } from "./podman-floor";
import {
  startOllamaDouble,
  startOrchestrator,
  startWorkerNode,
  tempDir,
  type Cleanup,
  type Orchestrator,
} from "./services";

async function stopClean(orch: Orchestrator): Promise<void> {
  await orch.service.stop();
  const code = await orch.service.exited;
  if (code !== 0) throw new Error(`orchestrator exited ${code} on SIGTERM (want a clean 0)`);
  if (existsSync(join(orch.stateDir, "postgres-data", "postmaster.pid")))
    throw new Error("orchestrator left its Postgres running");
}

async function orchestratorStartup(runs: number, cleanup: Cleanup): Promise<Comparison> {
  const stateDir = await tempDir(cleanup, "start");
  await stopClean(await startOrchestrator(cleanup, {}, stateDir)); // first start: unpack, initdb, migrate — not measured
  const log = createLogger({ name: "bench", level: "error" });
  return compare("start-up: orchestrator ready (gateway listening) on an existing data dir vs its Postgres alone", {
    runs,
    system: async () => {
      const t = performance.now();
      const orch = await startOrchestrator(cleanup, {}, stateDir);
      const ms = performance.now() - t;
      await stopClean(orch);
      return ms;
    },
    baseline: async () => {
      const t = performance.now();
      const pg = await startEmbeddedPostgres({ stateDir, log });
      const ms = performance.now() - t;
      await pg.stop();
      return ms;
    },
  });
}

async function nodeStartup(runs: number, cleanup: Cleanup): Promise<Comparison> {
  const orch = await startOrchestrator(cleanup);
  const ollamaUrl = await startOllamaDouble(cleanup);
  const slug = `bench-start-${crypto.randomUUID().slice(0, 8)}`;
  return compare("start-up: worker-node start → node ready (registered, config acked) vs one bare podman run", {
    runs,
    system: async () => {
      const t = performance.now();
      const node = await startWorkerNode(cleanup, orch, { slug, maxConcurrency: 4, ollamaUrl });
      const ms = performance.now() - t;
      await node.service.stop();
      return ms;
    },
    baseline: async () => {
      const t = performance.now();
      await bareRun();
      return performance.now() - t;
    },
  });
}

export async function startupBench(runs: number, cleanup: Cleanup): Promise<Comparison[]> {
  return [await orchestratorStartup(runs, cleanup), await nodeStartup(runs, cleanup)];
}
