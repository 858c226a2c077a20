/**
 * Live step lines of agent jobs (decision 22): the node running a job appends one line per step while it runs, and
 * the task's logs show them until the job's result replaces them. A JSON array of strings, capped by the writer.
 */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("jobs")
    .addColumn("progress", "jsonb", (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("jobs").dropColumn("progress").execute();
}
