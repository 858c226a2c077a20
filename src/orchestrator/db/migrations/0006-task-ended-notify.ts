/**
 * A task that reaches a terminal status notifies `cynode_task_ended` with its id, whichever code path ended it
 * (job result, lease loss, cancel), so long-polls on every orchestrator wake at the commit.
 */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function cynode_notify_task_ended() returns trigger language plpgsql as $$
    begin
      perform pg_notify('cynode_task_ended', new.id::text);
      return null;
    end $$`.execute(db);
  await sql`
    create trigger tasks_notify_ended after update of status on tasks for each row
    when (new.status in ('completed', 'failed', 'canceled', 'superseded') and old.status is distinct from new.status)
    execute function cynode_notify_task_ended()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger if exists tasks_notify_ended on tasks`.execute(db);
  await sql`drop function if exists cynode_notify_task_ended()`.execute(db);
}
