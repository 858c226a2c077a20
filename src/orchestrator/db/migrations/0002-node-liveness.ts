/**
 * Node liveness and lost jobs (decision 13): a node is suspect from a failed connection until it answers or
 * reports again; a job that lost its node goes back to the queue excluding that node, after a backoff, and fails
 * when no live node takes it within a bound counted from its first loss.
 */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("nodes").addColumn("suspect_since", "timestamptz").execute();
  await db.schema
    .alterTable("jobs")
    .addColumn("excluded_node_ids", sql`uuid[]`, (c) => c.notNull().defaultTo(sql`'{}'::uuid[]`))
    .addColumn("not_before", "timestamptz")
    .addColumn("lost_at", "timestamptz")
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("jobs")
    .dropColumn("excluded_node_ids")
    .dropColumn("not_before")
    .dropColumn("lost_at")
    .execute();
  await db.schema.alterTable("nodes").dropColumn("suspect_since").execute();
}
