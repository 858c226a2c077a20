/**
 * Measurement 3, scale: 200 tasks submitted at once to one node (its sandbox.max_concurrency from its config):
 * every one must complete, none lost, none stuck, none run twice; total wall time vs the same 200 bare
 * `podman run`s driven directly with the same parallelism.
 */
import type { Comparison } from "./harness";
import { stats } from "./harness";
import { startWarmSystem } from "./dispatch.bench";
import { bareRun } from "./podman-floor";
import type { Cleanup } from "./services";

const TASKS = 200;
const MAX_CONCURRENCY = 4;
const DEADLINE_MS = 5 * 60_000;

type Listed = { tasks: { id: string; status: string }[] };

async function systemRun(cleanup: Cleanup): Promise<{ ms: number; checks: Record<string, number> }> {
  const { orch, token } = await startWarmSystem(cleanup, MAX_CONCURRENCY);
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(orch.gatewayUrl + path, {
      method,
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
    return res.json() as Promise<any>;
  };
  const t = performance.now();
  const created: string[] = (
    await Promise.all(
      Array.from({ length: TASKS }, () => call("POST", "/v1/tasks", { prompt: "true", input_mode: "commands" })),
    )
  ).map((r) => r.id);
  let listed: Listed["tasks"] = [];
  for (;;) {
    listed = ((await call("GET", `/v1/tasks?limit=${TASKS}`)) as Listed).tasks;
    if (listed.length >= TASKS && listed.every((x) => ["completed", "failed", "canceled"].includes(x.status))) break;
    if (performance.now() - t > DEADLINE_MS) break;
    await Bun.sleep(100);
  }
  const ms = performance.now() - t;
  const byId = new Map(listed.map((x) => [x.id, x.status]));
  const dispatches = orch.service.logLines("dispatch");
  const perTask = new Map<string, number>();
  for (const d of dispatches) perTask.set(String(d.task_id), (perTask.get(String(d.task_id)) ?? 0) + 1);
  const checks = {
    submitted: created.length,
    completed: created.filter((id) => byId.get(id) === "completed").length,
    lost: created.filter((id) => !byId.has(id)).length,
    "stuck (not terminal at the end)": created.filter(
      (id) => byId.has(id) && !["completed", "failed", "canceled"].includes(byId.get(id)!),
    ).length,
    failed: created.filter((id) => byId.get(id) === "failed").length,
    "dispatched more than once": [...perTask.values()].filter((n) => n > 1).length,
  };
  if (checks.completed !== TASKS) throw new Error(`scale: not every task completed: ${JSON.stringify(checks)}`);
  return { ms, checks };
}

async function baselineRun(): Promise<number> {
  const t = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: MAX_CONCURRENCY }, async () => {
      while (next < TASKS) {
        next++;
        await bareRun();
      }
    }),
  );
  return performance.now() - t;
}

export async function scaleBench(cleanup: Cleanup): Promise<Comparison> {
  const sys = await systemRun(cleanup);
  const base = await baselineRun();
  return {
    name: `scale: ${TASKS} tasks at once to one node (max_concurrency ${MAX_CONCURRENCY}), all done, vs ${TASKS} bare podman runs ${MAX_CONCURRENCY} at a time`,
    unit: "ms",
    system: stats([sys.ms]),
    baseline: stats([base]),
    ratio: sys.ms / base,
    notes: { ...sys.checks, "system tasks/s": (TASKS / sys.ms) * 1000, "baseline runs/s": (TASKS / base) * 1000 },
  };
}
