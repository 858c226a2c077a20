/** Ended sessions (decision 17): one row per login family ended early, kept until its last token would expire. */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("revoked_sessions")
    .addColumn("session_id", "uuid", (c) => c.primaryKey())
    .addColumn("revoked_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("revoked_sessions_expires_idx").on("revoked_sessions").column("expires_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("revoked_sessions").execute();
}
