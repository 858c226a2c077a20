/**
 * Files in and out of tasks (decision 23): what a user attached to a task (`attachment`) and what its jobs left in
 * `/job/artifacts` (`artifact`), in Postgres so every orchestrator of a cluster serves them. A file's bytes are
 * chunks of a few MiB (each statement stays short, and a download streams them one by one). Each file goes with its
 * task (`on delete cascade`); artifacts also go once their task ended longer ago than the retention.
 */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("task_files")
    .addColumn("task_id", "uuid", (c) => c.notNull().references("tasks.id").onDelete("cascade"))
    .addColumn("kind", "text", (c) => c.notNull().check(sql`kind in ('attachment', 'artifact')`))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("job_id", "uuid")
    .addColumn("size_bytes", "bigint", (c) => c.notNull())
    .addColumn("sha256", "text", (c) => c.notNull())
    .addColumn("content_type", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("task_files_pkey", ["task_id", "kind", "name"])
    .execute();
  await db.schema
    .createTable("task_file_chunks")
    .addColumn("task_id", "uuid", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("data", "bytea", (c) => c.notNull())
    .addPrimaryKeyConstraint("task_file_chunks_pkey", ["task_id", "kind", "name", "seq"])
    .addForeignKeyConstraint(
      "task_file_chunks_file_fkey",
      ["task_id", "kind", "name"],
      "task_files",
      ["task_id", "kind", "name"],
      (c) => c.onDelete("cascade"),
    )
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("task_file_chunks").ifExists().execute();
  await db.schema.dropTable("task_files").ifExists().execute();
}
