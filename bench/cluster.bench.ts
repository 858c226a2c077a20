/**
 * `bench cluster`: 1 and then 3 orchestrators on one Postgres, 50 simulated nodes (the WORKER-API TEST DOUBLE of
 * bench/worker-api-double.ts, one process, answering after a random delay), CLUSTER_TASKS tasks (default 5,000)
 * submitted through the orchestrators' gateways. Prints tasks/s, queued->dispatched p50/p99, lost and run-twice
 * counts (both must be 0) and the 3-vs-1 throughput ratio. Orchestrators run from source (this branch's code).
 */
import { join } from "node:path";
import { createTestDatabase, stopTestPostgres } from "../src/testing/test-db";
import { stats, type Comparison } from "./harness";
import { createCleanup, login, logLine, ROOT, startService, tempDir, type Cleanup } from "./services";

const TASKS = Number(process.env.CLUSTER_TASKS || 5000);
const NODES = 50;
const SUBMITTERS = 16;
const DEADLINE_MS = 15 * 60_000;
const PSK = "bench-cluster-psk";
/** What a cluster shares (decision 16). */
const SHARED = { JWT_SECRET: "bench-cluster-jwt-secret-0123456789", ORCHESTRATOR_SECRET_KEY: "bench-cluster-key" };

type Phase = { tasksPerSecond: number; p50: number; p99: number; lost: number; runTwice: number; ms: number };

async function startOrchestrators(cleanup: Cleanup, n: number, databaseUrl: string) {
  const started = [];
  for (let i = 0; i < n; i++) {
    const service = startService(
      cleanup,
      ["bun", join(ROOT, "src", "orchestrator", "main.ts"), "--state-dir", await tempDir(cleanup, `cluster-orch${i}`)],
      {
        ...SHARED,
        DATABASE_URL: databaseUrl,
        USER_GATEWAY_LISTEN_ADDR: "127.0.0.1:0",
        CONTROL_PLANE_LISTEN_ADDR: "127.0.0.1:0",
        BOOTSTRAP_ADMIN_PASSWORD: "bench-admin-password",
        NODE_REGISTRATION_PSK: PSK,
        DISPATCH_POLL_INTERVAL: "200ms",
        LOG_LEVEL: "info",
      },
    );
    const url = async (msg: string) => String((await logLine(service, msg, 120_000)).url).replace(/\/$/, "");
    const controlPlaneUrl = await url("control-plane listening");
    const gatewayUrl = await url("user gateway listening");
    service.mute(); // thousands of access and dispatch lines: nothing to keep
    started.push({ gatewayUrl, controlPlaneUrl, token: await login(gatewayUrl) });
  }
  return started;
}

async function submitAll(gateways: { gatewayUrl: string; token: string }[]): Promise<void> {
  let next = 0;
  const submitter = async () => {
    while (next < TASKS) {
      const g = gateways[next++ % gateways.length]!;
      const res = await fetch(`${g.gatewayUrl}/v1/tasks`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${g.token}` },
        body: JSON.stringify({ prompt: "true", input_mode: "commands" }),
      });
      if (res.status !== 201) throw new Error(`task create answered ${res.status}: ${await res.text()}`);
    }
  };
  await Promise.all(Array.from({ length: SUBMITTERS }, submitter));
}

async function phase(outer: Cleanup, orchestrators: number): Promise<Phase> {
  const cleanup = createCleanup();
  outer.add(() => cleanup.run());
  const database = await createTestDatabase();
  cleanup.add(() => database.drop());
  const orchs = await startOrchestrators(cleanup, orchestrators, database.url);
  const double = startService(
    cleanup,
    [
      "bun",
      join(import.meta.dir, "worker-api-double.ts"),
      orchs[0]!.controlPlaneUrl,
      PSK,
      String(NODES),
      `cluster${orchestrators}-${crypto.randomUUID().slice(0, 6)}`,
    ],
    {},
  );
  const statsUrl = String((await logLine(double, "worker-api double ready", 120_000)).stats_url);
  const db = database.db;
  const t = performance.now();
  await submitAll(orchs);
  const terminal = async () =>
    Number(
      (
        await db
          .selectFrom("tasks")
          .select((eb) => eb.fn.countAll<string>().as("n"))
          .where("status", "in", ["completed", "failed", "canceled"])
          .executeTakeFirstOrThrow()
      ).n,
    );
  while ((await terminal()) < TASKS && performance.now() - t < DEADLINE_MS) await Bun.sleep(100);
  const ms = performance.now() - t;
  const completed = await db.selectFrom("tasks").select("id").where("status", "=", "completed").execute();
  const jobs = await db.selectFrom("jobs").select(["created_at", "started_at"]).execute();
  const waits = jobs.filter((j) => j.started_at).map((j) => j.started_at!.getTime() - j.created_at.getTime());
  const executions = (await (await fetch(statsUrl)).json()) as Record<string, number>;
  await cleanup.run();
  const s = stats(waits.length ? waits : [Number.NaN]);
  return {
    tasksPerSecond: completed.length / (ms / 1000),
    p50: s.median,
    p99: s.p99,
    lost: TASKS - completed.length,
    runTwice: Object.values(executions).filter((n) => n > 1).length,
    ms,
  };
}

export async function clusterBench(cleanup: Cleanup): Promise<Comparison> {
  cleanup.add(() => stopTestPostgres());
  const one = await phase(cleanup, 1);
  const three = await phase(cleanup, 3);
  const line = (n: number, p: Phase) =>
    `  ${n} orchestrator${n > 1 ? "s" : " "}: ${p.tasksPerSecond.toFixed(1)} tasks/s, queued->dispatched p50 ${p.p50.toFixed(0)} ms p99 ${p.p99.toFixed(0)} ms, lost ${p.lost}, run twice ${p.runTwice} (${(p.ms / 1000).toFixed(1)} s)`;
  console.log(`\ncluster: ${TASKS} tasks, ${NODES} simulated nodes (Worker-API test double)`);
  console.log(line(1, one));
  console.log(line(3, three));
  const comparison: Comparison = {
    name: `cluster: ${TASKS} tasks on ${NODES} simulated nodes, 3 orchestrators (system) vs 1 (baseline)`,
    unit: "tasks/s",
    system: stats([three.tasksPerSecond]),
    baseline: stats([one.tasksPerSecond]),
    ratio: three.tasksPerSecond / one.tasksPerSecond,
    notes: {
      "1 orchestrator queued->dispatched p50/p99 ms": [Math.round(one.p50), Math.round(one.p99)],
      "3 orchestrators queued->dispatched p50/p99 ms": [Math.round(three.p50), Math.round(three.p99)],
      "lost (1, 3)": [one.lost, three.lost],
      "run twice (1, 3)": [one.runTwice, three.runTwice],
    },
  };
  if (one.lost + three.lost + one.runTwice + three.runTwice > 0)
    throw new Error(`cluster: lost or run-twice jobs: ${JSON.stringify(comparison.notes)}`);
  return comparison;
}
