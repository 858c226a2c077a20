/** Settings every orchestrator on one database shares (`cluster_settings`): written once, by the first to start. */
import type { Db } from "./connect";

export async function readClusterSetting(db: Db, name: string): Promise<string | undefined> {
  const row = await db.selectFrom("cluster_settings").select("value").where("name", "=", name).executeTakeFirst();
  return row?.value;
}

/** Records `value` unless the setting exists; true when this call recorded it. */
export async function recordClusterSettingOnce(db: Db, name: string, value: string): Promise<boolean> {
  const inserted = await db
    .insertInto("cluster_settings")
    .values({ name, value })
    .onConflict((oc) => oc.column("name").doNothing())
    .returning("name")
    .executeTakeFirst();
  return inserted !== undefined;
}
