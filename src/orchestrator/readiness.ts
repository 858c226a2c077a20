/** Readiness (contracts 1.2): the orchestrator is ready once it has an inference path, i.e. a dispatchable node. */
import { sql } from "kysely";
import type { Db } from "./db/connect";

export type Readiness = { ready: true } | { ready: false; reason: string };

export const NO_INFERENCE_PATH =
  "no inference path available (no dispatchable nodes; register and configure a worker node or configure external provider keys)";

export async function checkReadiness(db: Db): Promise<Readiness> {
  try {
    const nodes = await db
      .selectFrom("nodes")
      .select(sql<number>`1`.as("one"))
      .where("status", "=", "active")
      .where("config_ack_status", "=", "applied")
      .where((eb) => eb("config_ack_version", "=", eb.ref("config_version")))
      .where("worker_api_target_url", "<>", "")
      .where("worker_api_bearer_token", "<>", "")
      .limit(1)
      .execute();
    if (nodes.length) return { ready: true };
    const creds = await db.selectFrom("api_credentials").select(sql<number>`1`.as("one")).where("is_active", "=", true).limit(1).execute();
    return creds.length ? { ready: true } : { ready: false, reason: NO_INFERENCE_PATH };
  } catch {
    return { ready: false, reason: "readiness check failed (database error)" };
  }
}
