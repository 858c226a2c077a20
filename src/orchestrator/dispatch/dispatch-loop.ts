/**
 * The dispatcher: each pass recovers (leases, lost nodes, gone holders, untaken jobs) and probes suspect nodes
 * (recovery.ts), then fills every live node's free slots with queued jobs (fill-slots.ts), each run as one Worker API
 * call (run-on-node.ts) tracked here in flight. Passes repeat on a poll interval and whenever something finishes or
 * is queued (the pass loop below).
 */
import type { Logger } from "../../lib/log";
import type { SecretBox } from "../auth/secret-box";
import type { Db } from "../db/connect";
import type { DispatchJob } from "../db/job-queue";
import type { DispatchMetrics } from "../metrics";
import { DEFAULT_MAX_CONCURRENCY, fillSlots, reportingSlots, type Slot } from "./fill-slots";
import { createRecovery, createSuspectProbe } from "./recovery";
import { runOnNode } from "./run-on-node";

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
      defaultMax: deps.defaultMaxConcurrency ?? DEFAULT_MAX_CONCURRENCY,
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

/**
 * Runs a pass again and again until stopped: at once when woken during a pass (something finished or was queued),
 * else after the poll interval, which a wake cuts short.
 */
export type PassLoop = { start(): void; wake(): void; stop(): Promise<void> };

export function createPassLoop(pass: () => Promise<void>, intervalMs: number): PassLoop {
  let stopped = true;
  let woken = false;
  let loop: Promise<void> | undefined;
  let resumeWait: (() => void) | undefined;
  const wake = () => {
    woken = true;
    resumeWait?.();
  };

  const pause = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, intervalMs);
      resumeWait = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => void (resumeWait = undefined));

  return {
    wake,
    start() {
      if (!stopped) return;
      stopped = false;
      loop = (async () => {
        while (!stopped) {
          woken = false;
          await pass();
          if (!stopped && !woken) await pause();
        }
      })();
    },
    async stop() {
      stopped = true;
      wake();
      await loop;
    },
  };
}

/** The Worker API calls this dispatcher has going, by job id: what it renews leases for, aborts and waits on. */
type Call = { leaseId: string; nodeId: string; done: Promise<void>; abort: AbortController };

export type InFlight = ReturnType<typeof createInFlight>;

/** `onDone` is told each time a call ends (a slot is free again). */
export function createInFlight(onDone: () => void) {
  const calls = new Map<string, Call>();
  return {
    get size() {
      return calls.size;
    },

    /** Starts `run` for the job; its signal aborts with the reason given to `abort`. */
    launch(jobId: string, call: { leaseId: string; nodeId: string }, run: (signal: AbortSignal) => Promise<void>) {
      const abort = new AbortController();
      const done = run(abort.signal).finally(() => {
        calls.delete(jobId);
        onDone();
      });
      calls.set(jobId, { ...call, done, abort });
    },

    leases: () => [...calls].map(([jobId, c]) => ({ jobId, leaseId: c.leaseId })),
    leaseIds: () => new Set([...calls.values()].map((c) => c.leaseId)),

    /** Aborts the calls to nodes not in `nodeIds`, with `reason`. */
    abortOutside(nodeIds: Set<string>, reason: string): void {
      for (const c of calls.values()) if (!nodeIds.has(c.nodeId)) c.abort.abort(reason);
    },

    abortAll(): void {
      for (const c of calls.values()) c.abort.abort();
    },

    /** Resolves when every call started so far, and every one started meanwhile, has ended. */
    async drain(): Promise<void> {
      while (calls.size) await Promise.all([...calls.values()].map((c) => c.done));
    },
  };
}
