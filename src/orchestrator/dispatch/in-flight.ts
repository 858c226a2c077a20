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
