/**
 * Artifact retention (decision 23): every hour, and once at start, the artifacts of tasks that ended longer ago than
 * `ARTIFACT_RETENTION` are removed. Any orchestrator of a cluster may do it; the delete is the same for each.
 */
import type { Logger } from "../../lib/log";
import type { Db } from "../db/connect";
import { pruneArtifacts } from "../db/task-files";

const HOUR_MS = 3_600_000;

export type RetentionDeps = { db: Db; log: Logger; retentionMs: number; everyMs?: number; now?: () => Date };

/** Prunes once now and then every `everyMs`; the returned function stops it (after a prune under way). */
export function startArtifactRetention(d: RetentionDeps): () => Promise<void> {
  const now = d.now ?? (() => new Date());
  let running = Promise.resolve();
  const prune = () => {
    running = pruneArtifacts(d.db, new Date(now().getTime() - d.retentionMs)).then(
      (n) => void (n && d.log.info("artifacts past retention removed", { count: n })),
      (err: Error) => d.log.warn("artifact retention failed", { error: err.message }),
    );
  };
  prune();
  const timer = setInterval(prune, d.everyMs ?? HOUR_MS);
  return async () => {
    clearInterval(timer);
    await running;
  };
}
