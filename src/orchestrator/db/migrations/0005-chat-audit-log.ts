/** One audit row per OpenAI-compatible chat request: who, which model, where it ran, how it ended; never content. */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("chat_audit_log")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("user_id", "uuid", (c) => c.references("users.id").onDelete("set null"))
    .addColumn("model", "text", (c) => c.notNull())
    .addColumn("node_id", "uuid", (c) => c.references("nodes.id").onDelete("set null"))
    .addColumn("stream", "boolean", (c) => c.notNull())
    .addColumn("message_count", "integer", (c) => c.notNull())
    .addColumn("status_code", "integer", (c) => c.notNull())
    .addColumn("outcome", "text", (c) => c.notNull())
    .addColumn("duration_ms", "integer", (c) => c.notNull())
    .addColumn("ip_address", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  for (const col of ["user_id", "created_at"])
    await db.schema.createIndex(`chat_audit_log_${col}_idx`).on("chat_audit_log").column(col).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("chat_audit_log").ifExists().execute();
}
