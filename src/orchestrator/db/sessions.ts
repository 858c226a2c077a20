/** Refresh sessions: one row per issued refresh token, grouped in families for reuse detection. */
import type { Db } from "./connect";

export async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

export async function createSession(
  db: Db,
  s: { userId: string; familyId: string; token: string; expiresAt: Date },
): Promise<void> {
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

export async function revokeFamily(db: Db, familyId: string, now: Date): Promise<number> {
  const r = await db
    .updateTable("refresh_sessions")
    .set({ is_active: false, updated_at: now })
    .where("family_id", "=", familyId)
    .where("is_active", "=", true)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function revokeUserSessions(db: Db, userId: string, now: Date): Promise<number> {
  const r = await db
    .updateTable("refresh_sessions")
    .set({ is_active: false, updated_at: now })
    .where("user_id", "=", userId)
    .where("is_active", "=", true)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** Ends the caller's own session for `token`; a token of another user is left alone. */
export async function endSession(db: Db, userId: string, token: string, now: Date): Promise<boolean> {
  const r = await db
    .updateTable("refresh_sessions")
    .set({ is_active: false, updated_at: now })
    .where("refresh_token_hash", "=", await sha256(token))
    .where("user_id", "=", userId)
    .where("is_active", "=", true)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}
