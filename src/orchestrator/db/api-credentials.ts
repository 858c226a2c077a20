/** External inference provider credentials (`api_credentials`). */
import type { Db } from "./connect";

export async function hasActiveApiCredential(db: Db): Promise<boolean> {
  const row = await db
    .selectFrom("api_credentials")
    .select("id")
    .where("is_active", "=", true)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
