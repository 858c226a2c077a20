/**
 * Readiness (contracts 1.2): ready once there is an inference path — a live node (by the one liveness rule,
 * `liveNodes` in db/nodes.ts: configured, reporting, not suspect) or an active external credential.
 */
import { hasActiveApiCredential } from "./db/api-credentials";
import type { Db } from "./db/connect";
import { liveNodes } from "./db/nodes";

export type Readiness = { ready: true } | { ready: false; reason: string };

export const NO_INFERENCE_PATH =
  "no inference path available (no live nodes; register and configure a worker node or configure external provider keys)";
export const READINESS_DB_ERROR = "readiness check failed (database error)";

export async function checkReadiness(db: Db, now: Date = new Date()): Promise<Readiness> {
  try {
    if ((await liveNodes(db, { now })).length) return { ready: true };
    return (await hasActiveApiCredential(db)) ? { ready: true } : { ready: false, reason: NO_INFERENCE_PATH };
  } catch {
    return { ready: false, reason: READINESS_DB_ERROR };
  }
}
