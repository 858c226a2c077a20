/**
 * Postgres LISTEN/NOTIFY between orchestrators sharing a database (decision 16). One dedicated connection per
 * process listens (postgres.js re-listens after a reconnect); `notify` sends inside any query or transaction,
 * and a notification sent in a transaction is delivered only when it commits.
 */
import { sql } from "kysely";
import postgres from "postgres";
import { connectionOptions, urlWithoutHost, type Db } from "./connect";

/** Channels in use; a name here is the whole contract between the sender and its listeners. */
export const CHANNELS = {
  /** Payload: the task id. Sent by a trigger on `tasks` when a task reaches a terminal status (migration 0002). */
  taskEnded: "cynode_task_ended",
} as const;

export type Channel = (typeof CHANNELS)[keyof typeof CHANNELS];

export type Notifications = {
  /**
   * Calls `onPayload` for each notification on `channel`; `onListening` each time the listen is (re)established,
   * so a caller can re-check what it may have missed while the connection was down. Resolves once listening.
   */
  listen(
    channel: Channel,
    onPayload: (payload: string) => void,
    onListening?: () => void,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
};

export function openNotifications(url: string): Notifications {
  const client = postgres(urlWithoutHost(url), { ...connectionOptions(url), max: 1 });
  return {
    async listen(channel, onPayload, onListening) {
      const { unlisten } = await client.listen(channel, onPayload, onListening);
      return unlisten;
    },
    close: () => client.end({ timeout: 5 }),
  };
}

/** Sends `payload` on `channel` through `db` (a transaction handle delays it to the commit). */
export async function notify(db: Db, channel: Channel, payload: string): Promise<void> {
  await sql`select pg_notify(${channel}, ${payload})`.execute(db);
}
