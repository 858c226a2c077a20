/**
 * The dispatcher: each pass recovers (leases, lost nodes, gone holders, untaken jobs; recovery.ts), probes suspect
 * nodes (suspect-probe.ts), and fills every live node's free slots with queued jobs (fill-slots.ts), each run as one
 * Worker API call (run-on-node.ts). Passes repeat on a poll interval and whenever something finishes or is queued
 * (pass-loop.ts).
 */
import type { Logger } from "../../lib/log";
import type { SecretBox } from "../auth/secret-box";
import type { Db } from "../db/connect";
import type { DispatchJob } from "../db/job-queue";
import type { DispatchMetrics } from "../metrics";
import { fillSlots } from "./fill-slots";
import { createInFlight } from "./in-flight";
import { reportingSlots, type Slot } from "./node-slots";
import { createPassLoop } from "./pass-loop";
import { createRecovery } from "./recovery";
import { runOnNode } from "./run-on-node";
import { createSuspectProbe } from "./suspect-probe";

export type DispatcherDeps = {
  db: Db;
  secrets: SecretBox;
  log: Logger;
  now?: () => Date;
  /** Pause between passes when nothing finished meanwhile (`DISPATCH_POLL_INTERVAL`). */
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

/** The deps with every default filled in. */
function settings(deps: DispatcherDeps) {
  return {
    ...deps,
    now: deps.now ?? (() => new Date()),
    leaseMs: deps.leaseMs ?? 8_000,
    newLeaseId: deps.newLeaseId ?? (() => crypto.randomUUID()),
    defaultJobTimeoutSeconds: deps.defaultJobTimeoutSeconds ?? 3600,
    httpGraceMs: deps.httpGraceMs ?? 60_000,
    maxHttpTimeoutMs: deps.maxHttpTimeoutMs ?? Number.POSITIVE_INFINITY,
  };
}

export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const s = settings(deps);
  const loop = createPassLoop(async () => {
    await tick().catch((err) => s.log.error("dispatch pass failed", { error: err }));
  }, deps.pollIntervalMs ?? 1000);
  // A job that finished frees a slot: the next pass comes at once instead of at the poll.
  const inFlight = createInFlight(loop.wake);
  const launch = (job: DispatchJob, node: Slot, leaseId: string) =>
    inFlight.launch(job.id, { leaseId, nodeId: node.id }, (signal) => runOnNode(s, job, node, leaseId, signal));
  const recover = createRecovery({ ...s, lostJobBoundMs: deps.lostJobBoundMs ?? 20_000, inFlight, launch });
  const probe = createSuspectProbe({
    db: s.db,
    log: s.log,
    timeoutMs: deps.probeTimeoutMs ?? 2_000,
    fetch: deps.fetch ?? fetch,
    onAnswer: loop.wake,
  });

  async function tick(): Promise<number> {
    const at = s.now();
    const slots = await reportingSlots(s.db, {
      at,
      staleMs: deps.nodeStaleMs ?? 180_000,
      defaultMax: deps.defaultMaxConcurrency ?? 4,
    });
    const live = new Map(slots.filter((n) => !n.suspectSince).map((n) => [n.id, n]));
    await recover(at, slots, live);
    probe.probe(slots.filter((n) => n.suspectSince));
    return fillSlots(
      { ...s, launch },
      [...live.values()].filter((n) => n.max > 0),
    );
  }

  async function drain(): Promise<void> {
    await inFlight.drain();
    await probe.settled();
  }

  return {
    tick,
    drain,
    wake: loop.wake,
    start: loop.start,
    async stop() {
      await loop.stop();
      inFlight.abortAll();
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
