/**
 * Keeps a process's set of ended sessions current across a cluster (decision 16, 17): loads the revocations in
 * force, then LISTENs on their channel; every (re)connection reloads, so a notification missed while the
 * connection was down is not lost.
 */
import type { Logger } from "../../lib/log";
import { postgresClient, type Db } from "../db/connect";
import { liveRevocations, parseRevocationPayload, SESSION_REVOKED_CHANNEL } from "../db/revoked-sessions";
import type { RevokedSessions } from "./revoked-sessions";

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
  await reload();
  await client.listen(
    SESSION_REVOKED_CHANNEL,
    (payload) => {
      const r = parseRevocationPayload(payload);
      if (r) opts.revoked.add([r]);
    },
    () => void reload(),
  );
  return { stop: () => client.end({ timeout: 5 }) };
}
