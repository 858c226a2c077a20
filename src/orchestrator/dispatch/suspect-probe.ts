/** Suspect nodes are probed beside the passes, one round at a time: one that answers `/healthz` is live again. */
import { WORKER_API } from "../../contracts/routes";
import type { Logger } from "../../lib/log";
import type { Db } from "../db/connect";
import { clearNodeSuspect } from "../db/nodes";
import type { Slot } from "./node-slots";

/** Whether the node's Worker API answers `/healthz` within `timeoutMs`. */
export async function answers(url: string, timeoutMs: number, doFetch: typeof fetch): Promise<boolean> {
  try {
    const health = WORKER_API.healthz;
    const res = await doFetch(url.trim().replace(/\/+$/, "") + health.path(), {
      method: health.method,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

export type SuspectProbe = { probe(suspects: Slot[]): void; settled(): Promise<void> };

export function createSuspectProbe(opts: {
  db: Db;
  log: Logger;
  timeoutMs: number;
  fetch: typeof fetch;
  /** Told when a suspect node answered (it may take work again). */
  onAnswer: () => void;
}): SuspectProbe {
  let probing: Promise<void> | undefined;
  const probeOne = async (s: Slot) => {
    if (!(await answers(s.url, opts.timeoutMs, opts.fetch))) return;
    await clearNodeSuspect(opts.db, s.id, s.suspectSince!);
    opts.log.info("suspect node answers again", { node_id: s.id, node_slug: s.slug });
    opts.onAnswer();
  };
  return {
    probe(suspects) {
      if (probing || !suspects.length) return;
      probing = Promise.all(suspects.map(probeOne))
        .catch((err) => opts.log.warn("node probe failed", { error: err instanceof Error ? err.message : String(err) }))
        .then(() => void (probing = undefined));
    },
    settled: async () => {
      await probing;
    },
  };
}
