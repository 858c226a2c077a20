/** Refresh sessions: one row per issued refresh token, grouped in families for reuse detection. */
import type { Db } from "./connect";
import { recordRevocations, type Revocation } from "./revoked-sessions";

export async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** A refresh token just issued: its session is stored with the token's hash, never the token. */
export type NewSession = { userId: string; familyId: string; token: string; expiresAt: Date };

export async function createSession(db: Db, s: NewSession): Promise<void> {
  await db
    .insertInto("refresh_sessions")
    .values({
      id: crypto.randomUUID(),
      user_id: s.userId,
      family_id: s.familyId,
      refresh_token_hash: await sha256(s.token),
      refresh_token_kid: null,
      expires_at: s.expiresAt,
      rotated_at: null,
      last_used_at: null,
    })
    .execute();
}

export async function findSessionByToken(db: Db, token: string) {
  return db
    .selectFrom("refresh_sessions")
    .selectAll()
    .where("refresh_token_hash", "=", await sha256(token))
    .executeTakeFirst();
}

/**
 * Deactivates an active session as rotated; false when another request rotated it first, which the caller
 * treats as reuse.
 */
export async function rotateSession(db: Db, id: string, now: Date): Promise<boolean> {
  const r = await db
    .updateTable("refresh_sessions")
    .set({ is_active: false, rotated_at: now, last_used_at: now, updated_at: now })
    .where("id", "=", id)
    .where("is_active", "=", true)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/** Ends a login family (refresh-token reuse): every refresh token of it and, via its revocation, its access tokens. */
export async function revokeFamily(db: Db, familyId: string, now: Date): Promise<Revocation[]> {
  return db.transaction().execute(async (tx) => {
    await tx
      .updateTable("refresh_sessions")
      .set({ is_active: false, updated_at: now })
      .where("family_id", "=", familyId)
      .where("is_active", "=", true)
      .execute();
    return recordRevocations(tx, [familyId], now);
  });
}

/**
 * Deactivates a user's sessions, the live ones or those of the given login families, and revokes each family they
 * belong to: their refresh tokens die, and their access tokens with them.
 */
function endUserSessions(db: Db, userId: string, now: Date, familyIds?: string[]): Promise<Revocation[]> {
  return db.transaction().execute(async (tx) => {
    const rows = await tx
      .updateTable("refresh_sessions")
      .set({ is_active: false, updated_at: now })
      .where("user_id", "=", userId)
      .$call((q) => (familyIds ? q.where("family_id", "in", familyIds) : q.where("is_active", "=", true)))
      .returning("family_id")
      .execute();
    return recordRevocations(tx, [...new Set(rows.map((r) => r.family_id))], now);
  });
}

/** Ends every live session of a user (admin `revoke_sessions`). */
export const revokeUserSessions = (db: Db, userId: string, now: Date): Promise<Revocation[]> =>
  endUserSessions(db, userId, now);

/** The login family of the caller's own refresh `token`; a token of another user yields nothing. */
export async function familyOfToken(db: Db, userId: string, token: string): Promise<string | undefined> {
  const row = await db
    .selectFrom("refresh_sessions")
    .select("family_id")
    .where("refresh_token_hash", "=", await sha256(token))
    .where("user_id", "=", userId)
    .executeTakeFirst();
  return row?.family_id;
}

/** Ends the caller's own sessions of these login families (logout). */
export const endSessions = (db: Db, userId: string, familyIds: string[], now: Date): Promise<Revocation[]> =>
  endUserSessions(db, userId, now, familyIds);
