/**
 * Measurement 1, dispatch overhead: `cynork task create --command true --result` against a warm orchestrator and
 * worker-node vs the bare `podman run` of the same sandbox. Each system run is split from log timestamps into
 * cynork start, gateway, dispatch wait, orchestrator→worker, worker (ours), podman and result wait.
 */
import { stats, compare, type Comparison } from "./harness";
import { bareRun, timingWrapper, type PodmanCall } from "./podman-floor";
import {
  at,
  bin,
  login,
  startOllamaDouble,
  startOrchestrator,
  startWorkerNode,
  tempDir,
  type Cleanup,
  type LogLine,
  type Orchestrator,
  type WorkerNode,
} from "./services";

type Run = { t0: number; t1: number; taskId: string };

/** `cynork task create --command true [extra] --result`: its --result long-polls the gateway for the end. */
export async function cynorkCreate(
  gatewayUrl: string,
  token: string,
  home: string,
  extra: string[] = [],
): Promise<Run> {
  const t0 = Date.now();
  const p = Bun.spawn([bin("cynork"), "task", "create", "--command", "true", ...extra, "--result"], {
    env: {
      PATH: process.env.PATH,
      HOME: home,
      XDG_CONFIG_HOME: home,
      CYNORK_GATEWAY_URL: gatewayUrl,
      CYNORK_TOKEN: token,
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  const t1 = Date.now();
  const taskId = /task_id=(\S+)/.exec(out + err)?.[1];
  if (code !== 0 || !taskId || !/status=completed/.test(out))
    throw new Error(`cynork task create failed (exit ${code}):\n${out}\n${err}`);
  return { t0, t1, taskId };
}

export type Split = Record<string, number>;

/** One run's phases in ms; they add up to the client's wall time. */
export function splitRun(run: Run, orchLines: LogLine[], workerLines: LogLine[], calls: PodmanCall[]): Split {
  const within = (l: LogLine) => at(l) >= run.t0 && at(l) <= run.t1;
  const post = orchLines.find((l) => l.msg === "request" && l.method === "POST" && l.path === "/v1/tasks" && within(l));
  const dispatch = orchLines.find((l) => l.msg === "dispatch" && l.task_id === run.taskId);
  const work = workerLines.find((l) => l.msg === "request" && String(l.path).endsWith("/jobs:run") && within(l));
  if (!post || !dispatch || !work) throw new Error(`log lines missing for task ${run.taskId}`);
  const postEnd = at(post);
  const dispatchEnd = at(dispatch);
  const dispatchStart = dispatchEnd - Number(dispatch.duration_ms);
  const workMs = Number(work.duration_ms);
  const podmanMs = calls
    .filter((c) => c.start >= dispatchStart && c.end <= dispatchEnd + 1)
    .reduce((s, c) => s + (c.end - c.start), 0);
  return {
    "cynork start → request": postEnd - Number(post.duration_ms) - run.t0,
    "gateway POST /v1/tasks": Number(post.duration_ms),
    "dispatch wait (queued → claimed)": dispatchStart - postEnd,
    "orchestrator ↔ worker (HTTP, DB)": Number(dispatch.duration_ms) - workMs,
    "worker (ours, without podman)": workMs - podmanMs,
    "podman (run)": podmanMs,
    "result wait (long-poll answer) + exit": run.t1 - dispatchEnd,
  };
}

export async function startWarmSystem(
  cleanup: Cleanup,
  maxConcurrency: number,
  podmanPath?: string,
): Promise<{ orch: Orchestrator; node: WorkerNode; token: string }> {
  const orch = await startOrchestrator(cleanup);
  const ollamaUrl = await startOllamaDouble(cleanup);
  const node = await startWorkerNode(cleanup, orch, {
    slug: `bench-${crypto.randomUUID().slice(0, 8)}`,
    maxConcurrency,
    ollamaUrl,
    path: podmanPath,
  });
  return { orch, node, token: await login(orch.gatewayUrl) };
}

export async function dispatchBench(runs: number, cleanup: Cleanup): Promise<Comparison[]> {
  const dir = await tempDir(cleanup, "dispatch");
  const wrapper = await timingWrapper(dir);
  const { orch, node, token } = await startWarmSystem(cleanup, 4, wrapper.path);
  const done: Run[] = [];
  const c = await compare(
    "dispatch: cynork task create --command true --result vs bare podman run (same image, flags, limits)",
    {
      runs,
      system: async () => {
        const r = await cynorkCreate(orch.gatewayUrl, token, dir);
        done.push(r);
        return r.t1 - r.t0;
      },
      baseline: async () => {
        const t = performance.now();
        await bareRun();
        return performance.now() - t;
      },
    },
  );
  const calls = await wrapper.calls();
  const splits = done.slice(1).map((r) => splitRun(r, orch.service.jsonLines(), node.service.jsonLines(), calls)); // [0] is the warm-up
  const median: Split = {};
  for (const key of Object.keys(splits[0] ?? {})) median[key] = stats(splits.map((s) => s[key]!)).median;
  const ours = splits.map((s) =>
    Object.entries(s).reduce((sum, [k, ms]) => (k.startsWith("podman") ? sum : sum + ms), 0),
  );
  // One GET of the result per run shows cynork long-polled (a polling client asks every 250 ms).
  const resultGets = done
    .slice(1)
    .map(
      (r) =>
        orch.service
          .jsonLines()
          .filter((l) => l.msg === "request" && l.method === "GET" && l.path === `/v1/tasks/${r.taskId}/result`).length,
    );
  c.notes = {
    "split of the system's time (medians, ms)": median,
    "ours (system − podman), median ms": stats(ours).median,
    "result requests per run (median)": stats(resultGets).median,
  };
  return [c];
}
