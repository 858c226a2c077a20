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

export async function setUserActive(db: Db, userId: string, active: boolean): Promise<void> {
  await db.updateTable("users").set({ is_active: active, updated_at: new Date() }).where("id", "=", userId).execute();
}
