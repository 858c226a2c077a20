/** Versioned migrations, listed statically so the compiled binary carries them; run at every start. */
import type { Kysely } from "kysely";
import { Migrator, type Migration } from "kysely/migration";
import * as init from "./migrations/0001-init";
import * as nodeLiveness from "./migrations/0002-node-liveness";
import * as clusterSettings from "./migrations/0003-cluster-settings";
import * as revokedSessions from "./migrations/0004-revoked-sessions";
import * as chatAudit from "./migrations/0005-chat-audit-log";
import * as taskEndedNotify from "./migrations/0006-task-ended-notify";
import * as fairDispatch from "./migrations/0007-fair-dispatch";
import * as nodeIdentity from "./migrations/0008-node-identity";
import * as jobProgress from "./migrations/0009-job-progress";
import * as chatAgent from "./migrations/0010-chat-agent";
import * as taskFiles from "./migrations/0011-task-files";

export const MIGRATIONS: Record<string, Migration> = {
  "0001-init": init,
  "0002-node-liveness": nodeLiveness,
  "0003-cluster-settings": clusterSettings,
  "0004-revoked-sessions": revokedSessions,
  "0005-chat-audit-log": chatAudit,
  "0006-task-ended-notify": taskEndedNotify,
  "0007-fair-dispatch": fairDispatch,
  "0008-node-identity": nodeIdentity,
  "0009-job-progress": jobProgress,
  "0010-chat-agent": chatAgent,
  "0011-task-files": taskFiles,
};

export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
