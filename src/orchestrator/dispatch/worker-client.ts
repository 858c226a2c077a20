/**
 * Calls a node's Worker API with that node's bearer token. Only a refused connection is retried: any later
 * failure may mean the job already started, so it is reported as `lost` and handled like an expired lease.
 */
import * as v from "valibot";
import { cancelTarget, WORKER_API } from "../../contracts/routes";
import type { RunJobRequest, RunJobResponse } from "../../contracts/worker-api";

export type WorkerTarget = { baseUrl: string; token: string };

export type RunOutcome =
  /** `body` is the worker's JSON text as received, stored verbatim as the job result. */
  | { kind: "answered"; response: RunJobResponse; body: string }
  | { kind: "rejected"; error: string }
  | { kind: "lost"; error: string };

export type WorkerClientOptions = {
  timeoutMs: number;
  attempts?: number;
  retryDelayMs?: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
};

const url = (target: WorkerTarget, path: string) => target.baseUrl.trim().replace(/\/+$/, "") + path;
const isRefused = (err: unknown) => (err as { code?: string } | null)?.code === "ECONNREFUSED";
const describe = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

export async function runJobOnWorker(
  target: WorkerTarget,
  request: RunJobRequest,
  opts: WorkerClientOptions,
): Promise<RunOutcome> {
  const doFetch = opts.fetch ?? fetch;
  const attempts = opts.attempts ?? 3;
  let lastError = "";
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let res: Response;
    try {
      const signals = [AbortSignal.timeout(opts.timeoutMs), ...(opts.signal ? [opts.signal] : [])];
      res = await doFetch(url(target, WORKER_API.runJob.path()), {
        method: WORKER_API.runJob.method,
        headers: { "content-type": "application/json", authorization: `Bearer ${target.token}` },
        body: JSON.stringify(request),
        signal: AbortSignal.any(signals),
        // A job may run for hours without a byte on the wire: Bun's 5-minute socket idle timer must not cut it
        // (the whole-call deadline above governs).
        timeout: false,
      });
    } catch (err) {
      lastError = describe(err);
      if (!isRefused(err) || opts.signal?.aborted) return { kind: "lost", error: `worker unreachable: ${lastError}` };
      if (attempt < attempts) await Bun.sleep(opts.retryDelayMs ?? 500);
      continue;
    }
    const text = await res.text().catch((err) => `(body unreadable: ${describe(err)})`);
    if (res.status !== 200) return { kind: "rejected", error: `worker answered ${res.status}: ${text.slice(0, 500)}` };
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { kind: "rejected", error: "worker answered 200 with a body that is not JSON" };
    }
    const parsed = v.safeParse(WORKER_API.runJob.response, body);
    if (!parsed.success)
      return {
        kind: "rejected",
        error: `worker answered 200 with an invalid RunJobResponse: ${parsed.issues[0].message}`,
      };
    return { kind: "answered", response: parsed.output, body: text };
  }
  return { kind: "lost", error: `worker unreachable after ${attempts} attempts: ${lastError}` };
}

/** Asks the node to stop a job's sandbox; resolves to whether the node acknowledged (2xx). */
export async function cancelJobOnWorker(
  target: WorkerTarget,
  jobId: string,
  opts: { timeoutMs: number; fetch?: typeof fetch },
): Promise<{ ok: boolean; detail: string }> {
  try {
    const route = WORKER_API.cancelJob;
    const res = await (opts.fetch ?? fetch)(url(target, route.path({ target: cancelTarget(jobId) })), {
      method: route.method,
      headers: { authorization: `Bearer ${target.token}` },
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    await res.body?.cancel();
    return { ok: res.ok, detail: `status ${res.status}` };
  } catch (err) {
    return { ok: false, detail: describe(err) };
  }
}
