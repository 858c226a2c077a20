/**
 * The dispatcher: each tick reaps expired leases, renews the leases it holds, and fills every dispatchable
 * node's free slots (sandbox.max_concurrency) with queued jobs, least-loaded node first. Each job runs as one
 * Worker API call; its answer (or error) becomes the job's result. One log line per dispatch.
 */
import * as v from "valibot";
import { SandboxSpec } from "../../contracts/worker-api";
import type { Logger } from "../../lib/log";
import type { SecretBox } from "../auth/secret-box";
import { parseSnapshot } from "../control-plane/node-config";
import type { Db } from "../db/connect";
import { jobErrorResult } from "../../contracts/job-result";
import { claimJobForNode, finishJob, releaseLostJob, renewLeases, runningJobCounts } from "../db/job-queue";
import { dispatchableNodes, latestCapabilities } from "../db/nodes";
import type { Job } from "../db/schema";
import type { DispatchMetrics } from "../metrics";
import { reapExpiredLeases } from "./lease-reaper";
import { runJobOnWorker } from "./worker-client";

export type DispatcherDeps = {
  db: Db;
  secrets: SecretBox;
  log: Logger;
  now?: () => Date;
  /** Pause between ticks when nothing finished meanwhile (`DISPATCH_POLL_INTERVAL`). */
  pollIntervalMs?: number;
  /** Slots of a node whose capability report names no sandbox.max_concurrency. */
  defaultMaxConcurrency?: number;
  /** Lease length; renewed every third of it while the worker call runs, so a dead orchestrator's jobs come back soon. */
  leaseMs?: number;
  /** Job timeout assumed when the payload names none (the worker's default). */
  defaultJobTimeoutSeconds?: number;
  /** How much longer than the job timeout the Worker API call may take before the worker counts as lost. */
  httpGraceMs?: number;
  /** Upper bound on one Worker API call whatever the job timeout (`DISPATCH_HTTP_TIMEOUT`). */
  maxHttpTimeoutMs?: number;
  retryDelayMs?: number;
  fetch?: typeof fetch;
  newLeaseId?: () => string;
  metrics?: DispatchMetrics;
};

export type Dispatcher = {
  /** One pass; resolves to the number of jobs it started. */
  tick(): Promise<number>;
  /** Resolves when every job started so far has finished. */
  drain(): Promise<void>;
  start(): void;
  /** Runs a pass now instead of at the next poll (a job was queued): no queued job waits out the poll interval. */
  wake(): void;
  /** Stops claiming and abandons in-flight calls; their leases expire and another pass requeues them. */
  stop(): Promise<void>;
};

type Slot = {
  id: string;
  slug: string;
  url: string;
  sealedToken: string;
  max: number;
  inference: boolean;
  running: number;
};
type InFlight = { leaseId: string; done: Promise<void>; abort: AbortController };

const describe = (err: unknown) => (err instanceof Error ? err.message : String(err));

function parsePayload(raw: unknown): { ok: true; spec: SandboxSpec } | { ok: false; error: string } {
  try {
    const parsed = v.safeParse(SandboxSpec, typeof raw === "string" ? JSON.parse(raw) : raw);
    if (parsed.success) return { ok: true, spec: parsed.output };
    return { ok: false, error: `invalid job payload: ${parsed.issues[0].message}` };
  } catch (err) {
    return { ok: false, error: `invalid job payload: ${describe(err)}` };
  }
}

export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const { db, log } = deps;
  const now = deps.now ?? (() => new Date());
  const leaseMs = deps.leaseMs ?? 60_000;
  const defaultMax = deps.defaultMaxConcurrency ?? 4;
  const inFlight = new Map<string, InFlight>();
  let lastRenewal = 0;
  let stopped = true;
  let loop: Promise<void> | undefined;
  let woken = false;
  let resumeWait: (() => void) | undefined;
  const wake = () => {
    woken = true;
    resumeWait?.();
  };

  async function slots(): Promise<Slot[]> {
    const nodes = await dispatchableNodes(db);
    const reports = await latestCapabilities(
      db,
      nodes.map((n) => n.id),
    );
    const running = await runningJobCounts(db);
    return nodes.flatMap((n) => {
      const report = parseSnapshot(reports.get(n.id));
      if (report?.sandbox?.supported === false) return [];
      const max = report?.sandbox?.max_concurrency ?? defaultMax;
      const inference = report?.inference?.running === true;
      return [
        {
          id: n.id,
          slug: n.node_slug,
          url: n.worker_api_target_url!,
          sealedToken: n.worker_api_bearer_token!,
          max,
          inference,
          running: running.get(n.id) ?? 0,
        },
      ];
    });
  }

  async function run(job: Job, node: Slot, leaseId: string, signal: AbortSignal): Promise<void> {
    const started = performance.now();
    const fields: Record<string, unknown> = {
      task_id: job.task_id,
      job_id: job.id,
      node_id: node.id,
      node_slug: node.slug,
    };
    const finish = async (status: "completed" | "failed", result: string) =>
      (await finishJob(db, { jobId: job.id, leaseId, status, result, now: now() })) ? status : "discarded";
    let status: string;
    try {
      const payload = parsePayload(job.payload);
      if (!payload.ok) {
        fields.error = payload.error;
        status = await finish("failed", jobErrorResult(payload.error));
      } else {
        const timeoutSeconds = payload.spec.timeout_seconds ?? deps.defaultJobTimeoutSeconds ?? 3600;
        const outcome = await runJobOnWorker(
          { baseUrl: node.url, token: deps.secrets.open(node.sealedToken) },
          { version: 1, task_id: job.task_id, job_id: job.id, sandbox: payload.spec },
          {
            timeoutMs: Math.min(
              timeoutSeconds * 1000 + (deps.httpGraceMs ?? 60_000),
              deps.maxHttpTimeoutMs ?? Infinity,
            ),
            retryDelayMs: deps.retryDelayMs,
            fetch: deps.fetch,
            signal,
          },
        );
        if (signal.aborted) status = "abandoned";
        else if (outcome.kind === "answered") {
          fields.worker_status = outcome.response.status;
          fields.exit_code = outcome.response.exit_code;
          status = await finish(outcome.response.status === "completed" ? "completed" : "failed", outcome.body);
        } else if (outcome.kind === "rejected") {
          fields.error = outcome.error;
          status = await finish("failed", jobErrorResult(outcome.error));
        } else {
          fields.error = outcome.error;
          status = await releaseLostJob(db, { jobId: job.id, leaseId, error: outcome.error, now: now() });
        }
      }
    } catch (err) {
      // The lease is no longer renewed, so the reaper takes the job back.
      fields.error = describe(err);
      status = "error";
    }
    log.info("dispatch", { ...fields, status, duration_ms: Math.round(performance.now() - started) });
  }

  function launch(job: Job, node: Slot, leaseId: string) {
    const abort = new AbortController();
    const done = run(job, node, leaseId, abort.signal).finally(() => {
      inFlight.delete(job.id);
      wake();
    });
    inFlight.set(job.id, { leaseId, done, abort });
  }

  async function tick(): Promise<number> {
    const at = now();
    await reapExpiredLeases(db, { now: at, log });
    if (inFlight.size && at.getTime() - lastRenewal >= leaseMs / 3) {
      await renewLeases(
        db,
        [...inFlight].map(([jobId, f]) => ({ jobId, leaseId: f.leaseId })),
        new Date(at.getTime() + leaseMs),
      );
      lastRenewal = at.getTime();
    }
    const all = await slots();
    // Jobs that need a model go to nodes running inference; only when no node does, any node takes them and
    // fails them with its clear "cannot run inference jobs" error rather than leaving them queued forever.
    const anyInference = all.some((s) => s.inference);
    let open = all.filter((s) => s.running < s.max);
    let started = 0;
    while (open.length) {
      const node = open.reduce((best, s) =>
        s.running / s.max < best.running / best.max ||
        (s.running / s.max === best.running / best.max && s.running < best.running)
          ? s
          : best,
      );
      const leaseId = deps.newLeaseId?.() ?? crypto.randomUUID();
      const inferenceJobs = node.inference || !anyInference;
      const claim = await claimJobForNode(db, {
        nodeId: node.id,
        maxConcurrency: node.max,
        inferenceJobs,
        leaseId,
        leaseExpiresAt: new Date(at.getTime() + leaseMs),
        now: at,
      });
      if ("none" in claim) {
        // Nothing left for a node that may take any job means nothing left at all.
        if (claim.none === "queue_empty" && inferenceJobs) break;
        open = open.filter((s) => s !== node);
        continue;
      }
      deps.metrics?.jobClaimed(claim.job.created_at, at);
      launch(claim.job, node, leaseId);
      started++;
      node.running++;
      if (node.running >= node.max) open = open.filter((s) => s !== node);
    }
    return started;
  }

  async function drain(): Promise<void> {
    while (inFlight.size) await Promise.all([...inFlight.values()].map((f) => f.done));
  }

  return {
    tick,
    drain,
    wake,
    start() {
      if (!stopped) return;
      stopped = false;
      loop = (async () => {
        while (!stopped) {
          woken = false;
          await tick().catch((err) => log.error("dispatch pass failed", { error: err }));
          // A job that finished during the pass frees a slot: go again at once instead of waiting.
          if (stopped || woken) continue;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, deps.pollIntervalMs ?? 1000);
            resumeWait = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          resumeWait = undefined;
        }
      })();
    },
    async stop() {
      stopped = true;
      wake();
      await loop;
      for (const f of inFlight.values()) f.abort.abort();
      await drain();
    },
  };
}

/** Creates the dispatcher and starts its loop (what the orchestrator's start-up calls). */
export function startDispatcher(deps: DispatcherDeps): Dispatcher {
  const dispatcher = createDispatcher(deps);
  dispatcher.start();
  return dispatcher;
}
