/**
 * Ended sessions (decision 17, 25). Ending one writes a row, kept until the family's last token would have expired:
 * its last refresh token, or an access token issued at the latest now (no token of it can live longer); and notifies every orchestrator on `SESSION_REVOKED_CHANNEL`.
 */
import { sql } from "kysely";
import type { Db } from "./connect";

export const SESSION_REVOKED_CHANNEL = "cynode_session_revoked";

/** A revoked session and when the last of its tokens expires. */
export type Revocation = { id: string; until: Date };

/** `<uuid> <epoch ms>`: the notification payload of one revocation. */
export const revocationPayload = (r: Revocation): string => `${r.id} ${r.until.getTime()}`;

export function parseRevocationPayload(payload: string): Revocation | undefined {
  const [id, ms] = payload.split(" ");
  const until = new Date(Number(ms));
  return id && !Number.isNaN(until.getTime()) ? { id, until } : undefined;
}

/**
 * Records the families as revoked (in the caller's transaction, so the notification leaves at commit) and returns
 * them; a family already revoked is not repeated.
 */
export async function recordRevocations(
  db: Db,
  familyIds: string[],
  now: Date,
  accessMs: number,
): Promise<Revocation[]> {
  if (!familyIds.length) return [];
  const accessEnd = new Date(now.getTime() + accessMs);
  const { rows } = await sql<{ session_id: string; expires_at: Date }>`
    with ended as (
      insert into revoked_sessions (session_id, revoked_at, expires_at)
      select family_id, ${now}, greatest(max(expires_at), ${accessEnd}) from refresh_sessions
      where family_id = any(${familyIds}::uuid[]) group by family_id
      on conflict (session_id) do nothing
      returning session_id, expires_at
    )
    select session_id, expires_at, pg_notify(${SESSION_REVOKED_CHANNEL},
      session_id::text || ' ' || floor(extract(epoch from expires_at) * 1000)::bigint) from ended`.execute(db);
  return rows.map((r) => ({ id: r.session_id, until: new Date(r.expires_at) }));
}

/** The revocations still in force; expired rows are deleted on the way. */
export async function liveRevocations(db: Db, now: Date): Promise<Revocation[]> {
  await db.deleteFrom("revoked_sessions").where("expires_at", "<=", now).execute();
  const rows = await db.selectFrom("revoked_sessions").select(["session_id", "expires_at"]).execute();
  return rows.map((r) => ({ id: r.session_id, until: r.expires_at }));
}
