/** Rows per status of the tables that have one, for the metrics read at scrape time. */
import { sql } from "kysely";
import type { Db } from "./connect";

export async function countByStatus(db: Db, table: "tasks" | "jobs" | "nodes"): Promise<Map<string, number>> {
  const rows = await sql<{ status: string; n: string }>`select status, count(*) as n from ${sql.table(table)}
    group by status`.execute(db);
  return new Map(rows.rows.map((r) => [r.status, Number(r.n)]));
}
