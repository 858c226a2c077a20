/** Initial schema: users and auth, projects, tasks and jobs, nodes and their capability snapshots. */
import { sql, type Kysely } from "kysely";

const now = sql`now()`;

export async function up(db: Kysely<any>): Promise<void> {
  const ts = (t: any) =>
    t
      .addColumn("created_at", "timestamptz", (c: any) => c.notNull().defaultTo(now))
      .addColumn("updated_at", "timestamptz", (c: any) => c.notNull().defaultTo(now));

  await ts(
    db.schema
      .createTable("users")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("handle", "text", (c) => c.notNull().unique())
      .addColumn("email", "text", (c) => c.unique())
      .addColumn("is_active", "boolean", (c) => c.notNull().defaultTo(true))
      .addColumn("external_source", "text")
      .addColumn("external_id", "text"),
  ).execute();
  await db.schema.createIndex("users_is_active_idx").on("users").column("is_active").execute();

  await ts(
    db.schema
      .createTable("password_credentials")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("user_id", "uuid", (c) => c.notNull().unique().references("users.id").onDelete("cascade"))
      .addColumn("password_hash", "bytea", (c) => c.notNull())
      .addColumn("hash_alg", "text", (c) => c.notNull()),
  ).execute();

  await ts(
    db.schema
      .createTable("refresh_sessions")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("user_id", "uuid", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("family_id", "uuid", (c) => c.notNull())
      .addColumn("refresh_token_hash", "bytea", (c) => c.notNull())
      .addColumn("refresh_token_kid", "text")
      .addColumn("is_active", "boolean", (c) => c.notNull().defaultTo(true))
      .addColumn("rotated_at", "timestamptz")
      .addColumn("expires_at", "timestamptz", (c) => c.notNull())
      .addColumn("last_used_at", "timestamptz"),
  ).execute();
  await db.schema.createIndex("refresh_sessions_user_idx").on("refresh_sessions").column("user_id").execute();
  await db.schema.createIndex("refresh_sessions_family_idx").on("refresh_sessions").column("family_id").execute();
  await db.schema
    .createIndex("refresh_sessions_hash_idx")
    .on("refresh_sessions")
    .column("refresh_token_hash")
    .execute();
  await db.schema
    .createIndex("refresh_sessions_active_idx")
    .on("refresh_sessions")
    .columns(["is_active", "expires_at"])
    .execute();

  await db.schema
    .createTable("auth_audit_log")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("user_id", "uuid", (c) => c.references("users.id").onDelete("set null"))
    .addColumn("event_type", "text", (c) => c.notNull())
    .addColumn("success", "boolean", (c) => c.notNull())
    .addColumn("subject_handle", "text")
    .addColumn("ip_address", "text")
    .addColumn("user_agent", "text")
    .addColumn("reason", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .execute();
  for (const col of ["user_id", "event_type", "created_at"])
    await db.schema.createIndex(`auth_audit_log_${col}_idx`).on("auth_audit_log").column(col).execute();

  await ts(
    db.schema
      .createTable("projects")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("slug", "text", (c) => c.notNull().unique())
      .addColumn("display_name", "text", (c) => c.notNull())
      .addColumn("description", "text")
      .addColumn("is_active", "boolean", (c) => c.notNull().defaultTo(true))
      .addColumn("updated_by", "text"),
  ).execute();

  await ts(
    db.schema
      .createTable("tasks")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("created_by", "uuid", (c) => c.references("users.id").onDelete("set null"))
      .addColumn("project_id", "uuid")
      .addColumn("plan_id", "uuid")
      .addColumn("status", "text", (c) => c.notNull().defaultTo("pending"))
      .addColumn("closed", "boolean", (c) => c.notNull().defaultTo(false))
      .addColumn("prompt", "text")
      .addColumn("acceptance_criteria", "jsonb")
      .addColumn("summary", "text")
      .addColumn("description", "text")
      .addColumn("metadata", "jsonb"),
  ).execute();
  for (const col of ["created_by", "project_id", "status", "closed", "created_at"])
    await db.schema.createIndex(`tasks_${col}_idx`).on("tasks").column(col).execute();
  await db.schema.createIndex("tasks_owner_created_idx").on("tasks").columns(["created_by", "created_at"]).execute();

  await ts(
    db.schema
      .createTable("nodes")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("node_slug", "text", (c) => c.notNull().unique())
      .addColumn("status", "text", (c) => c.notNull().defaultTo("registered"))
      .addColumn("capability_hash", "text")
      .addColumn("config_version", "text")
      .addColumn("config_hash", "text")
      .addColumn("worker_api_target_url", "text")
      .addColumn("worker_api_bearer_token", "text")
      .addColumn("config_ack_at", "timestamptz")
      .addColumn("config_ack_status", "text")
      .addColumn("config_ack_error", "text")
      .addColumn("config_ack_version", "text")
      .addColumn("last_seen_at", "timestamptz")
      .addColumn("last_capability_at", "timestamptz")
      .addColumn("metadata", "jsonb"),
  ).execute();
  for (const col of ["status", "last_seen_at"])
    await db.schema.createIndex(`nodes_${col}_idx`).on("nodes").column(col).execute();

  await db.schema
    .createTable("node_capabilities")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("node_id", "uuid", (c) => c.notNull().references("nodes.id").onDelete("cascade"))
    .addColumn("reported_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .addColumn("capability_snapshot", "jsonb", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("node_capabilities_node_reported_idx")
    .on("node_capabilities")
    .columns(["node_id", "reported_at"])
    .execute();

  await ts(
    db.schema
      .createTable("jobs")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("task_id", "uuid", (c) => c.notNull().references("tasks.id").onDelete("cascade"))
      .addColumn("node_id", "uuid", (c) => c.references("nodes.id").onDelete("set null"))
      .addColumn("status", "text", (c) => c.notNull().defaultTo("queued"))
      .addColumn("payload", "jsonb")
      .addColumn("result", "jsonb")
      .addColumn("lease_id", "uuid")
      .addColumn("lease_expires_at", "timestamptz")
      .addColumn("lease_expirations", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("started_at", "timestamptz")
      .addColumn("ended_at", "timestamptz"),
  ).execute();
  for (const col of ["task_id", "node_id", "status", "created_at"])
    await db.schema.createIndex(`jobs_${col}_idx`).on("jobs").column(col).execute();

  await ts(
    db.schema
      .createTable("task_artifacts")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("task_id", "uuid", (c) => c.notNull().references("tasks.id").onDelete("cascade"))
      .addColumn("run_id", "uuid")
      .addColumn("path", "text", (c) => c.notNull())
      .addColumn("storage_ref", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("size_bytes", "bigint")
      .addColumn("content_type", "text")
      .addColumn("checksum_sha256", "text")
      .addUniqueConstraint("task_artifacts_task_path_uq", ["task_id", "path"]),
  ).execute();

  await db.schema
    .createTable("api_credentials")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("provider", "text", (c) => c.notNull())
    .addColumn("is_active", "boolean", (c) => c.notNull().defaultTo(true))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of [
    "api_credentials",
    "task_artifacts",
    "jobs",
    "node_capabilities",
    "nodes",
    "tasks",
    "projects",
    "auth_audit_log",
    "refresh_sessions",
    "password_credentials",
    "users",
  ])
    await db.schema.dropTable(t).ifExists().execute();
}
