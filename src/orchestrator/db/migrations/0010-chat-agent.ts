/**
 * The chat agent's tables (decision 26, reference-agents 2.5, 3.1, 4): chat threads and their append-only messages
 * (stored redacted), one row per agent tool call, skills, and the workflow leases and checkpoints.
 */
import { sql, type Kysely } from "kysely";

const now = sql`now()`;

async function chatTables(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("chat_threads")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("user_id", "uuid", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("project_id", "uuid")
    .addColumn("title", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema.createIndex("chat_threads_user_idx").on("chat_threads").columns(["user_id", "updated_at"]).execute();
  await db.schema
    .createTable("chat_messages")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("thread_id", "uuid", (c) => c.notNull().references("chat_threads.id").onDelete("cascade"))
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("content", "text", (c) => c.notNull())
    .addColumn("metadata", "jsonb")
    .addColumn("seq", "bigserial", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema.createIndex("chat_messages_thread_idx").on("chat_messages").columns(["thread_id", "seq"]).execute();
  await db.schema
    .createTable("chat_tool_calls")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("user_id", "uuid", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("thread_id", "uuid", (c) => c.references("chat_threads.id").onDelete("cascade"))
    .addColumn("tool", "text", (c) => c.notNull())
    .addColumn("arguments", "text", (c) => c.notNull())
    .addColumn("outcome", "text", (c) => c.notNull())
    .addColumn("error", "text")
    .addColumn("duration_ms", "integer", (c) => c.notNull())
    .addColumn("seq", "bigserial", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema
    .createIndex("chat_tool_calls_thread_idx")
    .on("chat_tool_calls")
    .columns(["thread_id", "seq"])
    .execute();
}

async function skillsTable(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("skills")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("content", "text", (c) => c.notNull())
    .addColumn("scope", "text", (c) => c.notNull())
    .addColumn("owner_id", "uuid", (c) => c.references("users.id").onDelete("cascade"))
    .addColumn("is_system", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema.createIndex("skills_owner_idx").on("skills").column("owner_id").execute();
}

async function workflowTables(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("task_workflow_leases")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("task_id", "uuid", (c) => c.notNull().unique())
    .addColumn("lease_id", "uuid", (c) => c.notNull())
    .addColumn("holder_id", "text")
    .addColumn("expires_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema
    .createTable("workflow_checkpoints")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("task_id", "uuid", (c) => c.notNull().unique())
    .addColumn("state", "jsonb")
    .addColumn("last_node_id", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .execute();
}

export async function up(db: Kysely<any>): Promise<void> {
  await chatTables(db);
  await skillsTable(db);
  await workflowTables(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    "workflow_checkpoints",
    "task_workflow_leases",
    "skills",
    "chat_tool_calls",
    "chat_messages",
    "chat_threads",
  ])
    await db.schema.dropTable(table).ifExists().execute();
}
