/**
 * The dispatcher: each tick renews the leases it holds, drops its calls to nodes that stopped reporting, re-attaches
 * or requeues jobs whose holder is gone, fails lost jobs no live node took in time, probes suspect nodes, and fills
 * every live node's free slots (sandbox.max_concurrency) with queued jobs, least-loaded node first. Each job runs as
 * one Worker API call; its answer becomes the job's result; a failed connection marks the node suspect and sends the
 * job back to the queue for another node (decision 13). One log line per dispatch.
 */
import * as v from "valibot";
import type { NodeCapabilityReport } from "../../contracts/node-payloads";
import { SandboxSpec } from "../../contracts/worker-api";
import type { Logger } from "../../lib/log";
import type { SecretBox } from "../auth/secret-box";
import type { Db } from "../db/connect";
import { jobErrorResult } from "../../contracts/job-result";
import {
  claimJobForNode,
  failUntakenJobs,
  finishJob,
  reattachJob,
  renewLeases,
  requeueLostJob,
  runningJobCounts,
} from "../db/job-queue";
import { clearNodeSuspect, dispatchableNodes, latestCapabilities, markNodeSuspect } from "../db/nodes";
import type { Job, Node } from "../db/schema";
import type { DispatchMetrics } from "../metrics";
import { reapExpiredLeases, type ExpiredJob } from "./lease-reaper";
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
  /**
   * Lease length; renewed every quarter of it while the worker call runs. Short, so a restarted or surviving
   * orchestrator re-attaches to a dead one's jobs within seconds.
   */
  leaseMs?: number;
  /** A node whose last capability report is older than this is not live (a few report intervals). */
  nodeStaleMs?: number;
  /** A job that lost its node fails when no live node took it within this long. */
  lostJobBoundMs?: number;
  /** Bound on a probe of a suspect node's Worker API. */
  probeTimeoutMs?: number;
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
  suspectSince: Date | null;
  slug: string;
  url: string;
  sealedToken: string;
  max: number;
  inference: boolean;
  running: number;
};
type InFlight = { leaseId: string; nodeId: string; done: Promise<void>; abort: AbortController };

/** Abort reason of a call to a node that stopped reporting: its job goes back to the queue. */
const NODE_LOST = "node lost: capability reports stopped";

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

function toSlot(n: Node, report: NodeCapabilityReport | undefined, running: number, defaultMax: number): Slot {
  return {
    id: n.id,
    suspectSince: n.suspect_since,
    slug: n.node_slug,
    url: n.worker_api_target_url!,
    sealedToken: n.worker_api_bearer_token!,
    // A node that cannot run sandboxes stays live (re-attach, probes) but gets no slot.
    max: report?.sandbox?.supported === false ? 0 : (report?.sandbox?.max_concurrency ?? defaultMax),
    inference: report?.inference?.running === true,
    running,
  };
}

/** Whether the node's Worker API answers `/healthz` within `timeoutMs`. */
async function answers(url: string, timeoutMs: number, doFetch: typeof fetch): Promise<boolean> {
  try {
    const res = await doFetch(`${url.trim().replace(/\/+$/, "")}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const { db, log } = deps;
  const now = deps.now ?? (() => new Date());
  const leaseMs = deps.leaseMs ?? 8_000;
  const defaultMax = deps.defaultMaxConcurrency ?? 4;
  const inFlight = new Map<string, InFlight>();
  let lastRenewal = 0;
  let stopped = true;
  let loop: Promise<void> | undefined;
  let probing: Promise<void> | undefined;
  let woken = false;
  let resumeWait: (() => void) | undefined;
  const wake = () => {
    woken = true;
    resumeWait?.();
  };

  /** Nodes that still report (suspect ones too), with their capacity. */
  async function reportingSlots(at: Date): Promise<Slot[]> {
    const nodes = await dispatchableNodes(db, {
      reportedSince: new Date(at.getTime() - (deps.nodeStaleMs ?? 180_000)),
    });
    const reports = await latestCapabilities(
      db,
      nodes.map((n) => n.id),
    );
    const running = await runningJobCounts(db);
    return nodes.map((n) => toSlot(n, reports.get(n.id), running.get(n.id) ?? 0, defaultMax));
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
    const requeue = () => requeueLostJob(db, { jobId: job.id, leaseId, nodeId: node.id, now: now() });
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
            // A refused connection is not retried here: the node turns suspect and the job goes to another one.
            attempts: 1,
            fetch: deps.fetch,
            signal,
          },
        );
        if (signal.aborted) {
          fields.error = signal.reason === NODE_LOST ? NODE_LOST : undefined;
          status = signal.reason === NODE_LOST ? await requeue() : "abandoned";
        } else if (outcome.kind === "answered") {
          fields.worker_status = outcome.response.status;
          fields.exit_code = outcome.response.exit_code;
          status = await finish(outcome.response.status === "completed" ? "completed" : "failed", outcome.body);
        } else if (outcome.kind === "rejected") {
          fields.error = outcome.error;
          status = await finish("failed", jobErrorResult(outcome.error));
        } else {
          fields.error = outcome.error;
          await markNodeSuspect(db, node.id, now());
          status = await requeue();
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
    inFlight.set(job.id, { leaseId, nodeId: node.id, done, abort });
  }

  /** A suspect node that answers again is live again; probes run beside the passes, one round at a time. */
  function probe(suspects: Slot[]) {
    if (probing || !suspects.length) return;
    probing = Promise.all(
      suspects.map(async (s) => {
        if (!(await answers(s.url, deps.probeTimeoutMs ?? 2_000, deps.fetch ?? fetch))) return;
        await clearNodeSuspect(db, s.id, s.suspectSince!);
        log.info("suspect node answers again", { node_id: s.id, node_slug: s.slug });
        wake();
      }),
    )
      .catch((err) => log.warn("node probe failed", { error: describe(err) }))
      .then(() => void (probing = undefined));
  }

  /** Keeps this process's leases, drops calls to nodes that stopped reporting, takes over jobs of gone holders. */
  async function recover(at: Date, reporting: Slot[], live: Map<string, Slot>): Promise<void> {
    if (inFlight.size && at.getTime() - lastRenewal >= leaseMs / 4) {
      await renewLeases(
        db,
        [...inFlight].map(([jobId, f]) => ({ jobId, leaseId: f.leaseId })),
        new Date(at.getTime() + leaseMs),
      );
      lastRenewal = at.getTime();
    }
    const reportingIds = new Set(reporting.map((s) => s.id));
    for (const f of inFlight.values()) if (!reportingIds.has(f.nodeId)) f.abort.abort(NODE_LOST);
    const reattach = async (expired: ExpiredJob) => {
      const node = live.get(expired.node_id!)!;
      const leaseId = deps.newLeaseId?.() ?? crypto.randomUUID();
      const job = await reattachJob(db, {
        jobId: expired.id,
        oldLeaseId: expired.lease_id,
        leaseId,
        leaseExpiresAt: new Date(at.getTime() + leaseMs),
        now: at,
      });
      if (job) launch(job, node, leaseId);
      return job !== undefined;
    };
    const held = new Set([...inFlight.values()].map((f) => f.leaseId));
    await reapExpiredLeases(db, { now: at, log, held, live: new Set(live.keys()), reattach });
    const bound = deps.lostJobBoundMs ?? 20_000;
    for (const jobId of await failUntakenJobs(db, { now: at, boundMs: bound }))
      log.warn("lost job failed: no live node took it", { job_id: jobId, bound_ms: bound });
  }

  async function tick(): Promise<number> {
    const at = now();
    const reporting = await reportingSlots(at);
    const live = new Map(reporting.filter((s) => !s.suspectSince).map((s) => [s.id, s]));
    await recover(at, reporting, live);
    probe(reporting.filter((s) => s.suspectSince));
    return fill([...live.values()].filter((s) => s.max > 0));
  }

  /** Fills free slots with queued jobs, least-loaded node first; resolves to the number of jobs started. */
  async function fill(all: Slot[]): Promise<number> {
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
      // Each claim's own time: a pass over many nodes takes a while, and started_at should say when.
      const claimedAt = now();
      const claim = await claimJobForNode(db, {
        nodeId: node.id,
        maxConcurrency: node.max,
        inferenceJobs,
        leaseId,
        leaseExpiresAt: new Date(claimedAt.getTime() + leaseMs),
        now: claimedAt,
      });
      if ("none" in claim) {
        // Nothing left for a node that may take any job means nothing left at all (jobs excluded from this node
        // after a loss there are reported as `excluded`, so other nodes still get their turn).
        if (claim.none === "queue_empty" && inferenceJobs) break;
        open = open.filter((s) => s !== node);
        continue;
      }
      deps.metrics?.jobClaimed(claim.job.created_at, claimedAt);
      launch(claim.job, node, leaseId);
      started++;
      node.running++;
      if (node.running >= node.max) open = open.filter((s) => s !== node);
    }
    return started;
  }

  async function drain(): Promise<void> {
    while (inFlight.size) await Promise.all([...inFlight.values()].map((f) => f.done));
    await probing;
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
