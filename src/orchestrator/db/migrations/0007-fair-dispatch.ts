/**
 * Fair turns on nodes (decision 24): every job carries its owner (the task's creator; the nil uuid when it has none),
 * one index serves the claim's per-owner lookups and the per-user active-job count, and `dispatch_turns` remembers
 * when each owner was last served (a sequence number, so it does not depend on any orchestrator's clock).
 */
import { sql, type Kysely } from "kysely";

const NO_OWNER = "00000000-0000-0000-0000-000000000000";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("jobs")
    .addColumn("owner_id", "uuid", (c) => c.notNull().defaultTo(NO_OWNER))
    .execute();
  await sql`update jobs set owner_id = t.created_by from tasks t
    where t.id = jobs.task_id and t.created_by is not null`.execute(db);
  await db.schema
    .createIndex("jobs_status_owner_created_idx")
    .on("jobs")
    .columns(["status", "owner_id", "created_at", "id"])
    .execute();
  await db.schema
    .createTable("dispatch_turns")
    .addColumn("owner_id", "uuid", (c) => c.primaryKey())
    .addColumn("turn", "bigint", (c) => c.notNull())
    .execute();
  await sql`create sequence dispatch_turn_seq`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop sequence if exists dispatch_turn_seq`.execute(db);
  await db.schema.dropTable("dispatch_turns").ifExists().execute();
  await db.schema.dropIndex("jobs_status_owner_created_idx").ifExists().execute();
  await db.schema.alterTable("jobs").dropColumn("owner_id").execute();
}
