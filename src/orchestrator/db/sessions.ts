/** Refresh sessions: one row per issued refresh token, grouped in families for reuse detection. */
import type { Selectable } from "kysely";
import type { Db } from "./connect";
import type { RefreshSessionsTable, User } from "./schema";
import { lockUser } from "./users";
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

/** A refresh session row as stored. */
export type RefreshSession = Selectable<RefreshSessionsTable>;
/** Why a presented refresh token was not rotated. */
export type RotationRefusal = "session not found" | "session not active" | "refresh token reuse" | "session expired";

/**
 * Rotates the session of refresh `token` in one transaction holding its row (SELECT … FOR UPDATE): `next` issues the
 * successor (or refuses with a reason of its own), the old row is closed and the new one inserted before the lock
 * goes. A revocation takes the user row exclusively first, so it waits for this rotation and sees its successor.
 */
export async function rotateSession<T, R extends string>(
  db: Db,
  token: string,
  now: Date,
  next: (s: RefreshSession, user: User | undefined) => Promise<{ successor: NewSession; result: T } | R>,
): Promise<{ session?: RefreshSession; refused?: RotationRefusal | R; result?: T }> {
  const hash = await sha256(token);
  return db.transaction().execute(async (tx) => {
    const byHash = () => tx.selectFrom("refresh_sessions").selectAll().where("refresh_token_hash", "=", hash);
    const owner = await byHash().executeTakeFirst();
    if (!owner) return { refused: "session not found" };
    // The user row first (as disabling takes it), then the session's: the locks are always taken in that order.
    const user = await lockUser(tx, owner.user_id);
    const session = (await byHash().forUpdate().executeTakeFirst())!;
    if (!session.is_active)
      return { session, refused: session.rotated_at ? "refresh token reuse" : "session not active" };
    if (session.expires_at <= now) return { session, refused: "session expired" };
    const issued = await next(session, user);
    if (typeof issued === "string") return { session, refused: issued };
    await tx
      .updateTable("refresh_sessions")
      .set({ is_active: false, rotated_at: now, last_used_at: now, updated_at: now })
      .where("id", "=", session.id)
      .execute();
    await createSession(tx, issued.successor);
    return { session, result: issued.result };
  });
}

/**
 * Stores the session of a login, unless its user was disabled meanwhile: the user row is held (FOR SHARE) so a
 * disable either waits for this session and revokes it, or is seen here.
 */
export async function startSession(db: Db, s: NewSession): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    if (!(await lockUser(tx, s.userId))?.is_active) return false;
    await createSession(tx, s);
    return true;
  });
}

/**
 * Takes a user's row exclusively. A rotation holds it shared until its successor is stored, so once this returns no
 * rotation of that user is in flight, and none starts before the caller's transaction ends: every session a
 * revocation reads is every session there is.
 */
const holdUser = (tx: Db, userId: string) =>
  tx.selectFrom("users").select("id").where("id", "=", userId).forUpdate().execute();

/** Deactivates every session of `families` and records their revocations (the caller holds the user). */
async function closeFamilies(tx: Db, families: string[], now: Date, accessMs: number): Promise<Revocation[]> {
  if (!families.length) return [];
  await tx
    .updateTable("refresh_sessions")
    .set({ is_active: false, updated_at: now })
    .where("family_id", "in", families)
    .where("is_active", "=", true)
    .execute();
  return recordRevocations(tx, families, now, accessMs);
}

/** Ends a login family (refresh-token reuse): every refresh token of it and, via its revocation, its access tokens. */
export async function revokeFamily(db: Db, familyId: string, now: Date, accessMs: number): Promise<Revocation[]> {
  return db.transaction().execute(async (tx) => {
    const owner = await tx
      .selectFrom("refresh_sessions")
      .select("user_id")
      .where("family_id", "=", familyId)
      .limit(1)
      .executeTakeFirst();
    if (!owner) return [];
    await holdUser(tx, owner.user_id);
    return closeFamilies(tx, [familyId], now, accessMs);
  });
}

/**
 * Ends a user's sessions, every one that may still hold a valid token or those of the given login families, and
 * revokes each family they belong to: their refresh tokens die, and their access tokens with them.
 */
function endUserSessions(
  db: Db,
  userId: string,
  now: Date,
  accessMs: number,
  familyIds?: string[],
): Promise<Revocation[]> {
  return db.transaction().execute((tx) => endSessionsIn(tx, userId, now, accessMs, familyIds));
}

/** `endUserSessions` in the caller's transaction. */
export async function endSessionsIn(
  tx: Db,
  userId: string,
  now: Date,
  accessMs: number,
  familyIds?: string[],
): Promise<Revocation[]> {
  await holdUser(tx, userId);
  const rows = await tx
    .selectFrom("refresh_sessions")
    .select("family_id")
    .where("user_id", "=", userId)
    .$call((q) =>
      familyIds
        ? q.where("family_id", "in", familyIds)
        : q.where("expires_at", ">", new Date(now.getTime() - accessMs)),
    )
    .execute();
  return closeFamilies(tx, [...new Set(rows.map((r) => r.family_id))], now, accessMs);
}

/** Ends every session of a user that may still hold a valid token (admin `revoke_sessions`, disable, reset). */
export const revokeUserSessions = (db: Db, userId: string, now: Date, accessMs: number): Promise<Revocation[]> =>
  endUserSessions(db, userId, now, accessMs);

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
export const endSessions = (
  db: Db,
  userId: string,
  familyIds: string[],
  now: Date,
  accessMs: number,
): Promise<Revocation[]> => endUserSessions(db, userId, now, accessMs, familyIds);
