/**
 * Keeps a process's set of ended sessions current across a cluster (decision 16, 17): LISTENs on their channel,
 * then loads the revocations in force; every reconnection reloads, so a notification missed meanwhile is not lost.
 */
import type { Logger } from "../../lib/log";
import { postgresClient, type Db } from "../db/connect";
import { liveRevocations, parseRevocationPayload, SESSION_REVOKED_CHANNEL } from "../db/revoked-sessions";
import type { RevokedSessions } from "./tokens";

export async function listenForRevokedSessions(opts: {
  db: Db;
  url: string;
  revoked: RevokedSessions;
  log: Logger;
  now?: () => Date;
}): Promise<{ stop(): Promise<void> }> {
  const now = opts.now ?? (() => new Date());
  const client = postgresClient(opts.url, 1);
  const reload = () =>
    liveRevocations(opts.db, now()).then(
      (all) => opts.revoked.add(all),
      (err: Error) => opts.log.warn("loading revoked sessions failed", { error: err }),
    );
  // Loading follows every LISTEN (the first and each after a reconnect), so nothing revoked in between is missed;
  // the load in flight is awaited at start and at stop, so no query outlives the listener.
  let loading: Promise<void> = Promise.resolve();
  await client.listen(
    SESSION_REVOKED_CHANNEL,
    (payload) => {
      const r = parseRevocationPayload(payload);
      if (r) opts.revoked.add([r]);
    },
    () => void (loading = reload()),
  );
  await loading;
  return {
    async stop() {
      await client.end({ timeout: 5 });
      await loading;
    },
  };
}
