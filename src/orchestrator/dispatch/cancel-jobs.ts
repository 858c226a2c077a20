/** `cancelJobsOnNodes`, injected into the gateway: tells each job's node to stop its sandbox. Never throws. */
import type { Logger } from "../../lib/log";
import type { SecretBox } from "../auth/secret-box";
import type { Db } from "../db/connect";
import { nodeEndpoints } from "../db/nodes";
import { cancelJobOnWorker } from "./worker-client";

/** Asks the nodes running these jobs to stop them; failures are the callee's to log. */
export type CancelJobsOnNodes = (jobs: { id: string; node_id: string }[]) => Promise<void>;

export function createJobCanceller(deps: {
  db: Db;
  secrets: SecretBox;
  log: Logger;
  timeoutMs?: number;
  fetch?: typeof fetch;
}): CancelJobsOnNodes {
  return async (jobs) => {
    if (!jobs.length) return;
    try {
      const endpoints = await nodeEndpoints(deps.db, [...new Set(jobs.map((j) => j.node_id))]);
      await Promise.all(
        jobs.map(async (job) => {
          const node = endpoints.get(job.node_id);
          if (!node)
            return deps.log.warn("job cancel not sent: node has no worker endpoint", {
              job_id: job.id,
              node_id: job.node_id,
            });
          const target = { baseUrl: node.url, token: deps.secrets.open(node.sealedToken) };
          const r = await cancelJobOnWorker(target, job.id, { timeoutMs: deps.timeoutMs ?? 10_000, fetch: deps.fetch });
          deps.log[r.ok ? "info" : "warn"]("job cancel sent to node", {
            job_id: job.id,
            node_slug: node.slug,
            ok: r.ok,
            detail: r.detail,
          });
        }),
      );
    } catch (err) {
      deps.log.error("job cancel failed", { error: err });
    }
  };
}
