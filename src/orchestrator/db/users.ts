/** Users and their password credentials. */
import type { Db } from "./connect";
import type { User } from "./schema";

export function findUserByHandle(db: Db, handle: string): Promise<User | undefined> {
  return db.selectFrom("users").selectAll().where("handle", "=", handle).executeTakeFirst();
}

export function findUserById(db: Db, id: string): Promise<User | undefined> {
  return db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function passwordHashOf(db: Db, userId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom("password_credentials")
    .select("password_hash")
    .where("user_id", "=", userId)
    .executeTakeFirst();
  return row ? new TextDecoder().decode(row.password_hash) : undefined;
}

export async function createUserWithPassword(
  db: Db,
  user: { handle: string; email?: string; passwordHash: string },
): Promise<User> {
  return db.transaction().execute(async (tx) => {
    const created = await tx
      .insertInto("users")
      .values({
        id: crypto.randomUUID(),
        handle: user.handle,
        email: user.email ?? null,
        external_source: null,
        external_id: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await tx
      .insertInto("password_credentials")
      .values({
        id: crypto.randomUUID(),
        user_id: created.id,
        password_hash: new TextEncoder().encode(user.passwordHash),
        hash_alg: "argon2id",
      })
      .execute();
    return created;
  });
}

/** The user, its row held FOR SHARE until the caller's transaction ends (a disable waits for it). */
export function lockUser(tx: Db, id: string): Promise<User | undefined> {
  return tx.selectFrom("users").selectAll().where("id", "=", id).forShare().executeTakeFirst();
}

/** Every user, oldest first. */
export function listUsers(db: Db): Promise<User[]> {
  return db.selectFrom("users").selectAll().orderBy("created_at").orderBy("handle").execute();
}

/** Sets the flag; the updated user, or undefined for an unknown id. */
export function setUserActive(db: Db, userId: string, active: boolean, now: Date): Promise<User | undefined> {
  return db
    .updateTable("users")
    .set({ is_active: active, updated_at: now })
    .where("id", "=", userId)
    .returningAll()
    .executeTakeFirst();
}

/** Replaces the user's password hash (argon2id); false for an unknown user. */
export async function setPasswordHash(db: Db, userId: string, passwordHash: string, now: Date): Promise<boolean> {
  const user = await db.updateTable("users").set({ updated_at: now }).where("id", "=", userId).executeTakeFirst();
  if (!user.numUpdatedRows) return false;
  await db
    .insertInto("password_credentials")
    .values({
      id: crypto.randomUUID(),
      user_id: userId,
      password_hash: new TextEncoder().encode(passwordHash),
      hash_alg: "argon2id",
    })
    .onConflict((oc) =>
      oc.column("user_id").doUpdateSet({ password_hash: new TextEncoder().encode(passwordHash), hash_alg: "argon2id" }),
    )
    .execute();
  return true;
}
