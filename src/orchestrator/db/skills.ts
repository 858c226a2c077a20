/**
 * Skills (reference-agents 3.1): a user sees their own skills, every global one and the system skill; writes are
 * the owner's (global ones an admin's, the gateway checks), and the system skill is read-only.
 */
import type { Db } from "./connect";
import type { Skill } from "./schema";

/** The system skill's fixed id (the reference's); its content is upserted at each start. */
export const SYSTEM_SKILL_ID = "00000000-0000-4000-8000-000000000001";
export const SYSTEM_SKILL_NAME = "CyNodeAI interaction";
export const SYSTEM_SKILL_CONTENT = [
  "# CyNodeAI interaction",
  "",
  "Work is done as tasks: a command task runs a shell command in a network-less sandbox, a prompt task asks a model,",
  "an agent task lets a model work in a sandbox with tools. Create a task, wait for its result, then answer with it.",
].join("\n");

export async function ensureSystemSkill(db: Db): Promise<void> {
  const row = { name: SYSTEM_SKILL_NAME, content: SYSTEM_SKILL_CONTENT, scope: "global", owner_id: null };
  await db
    .insertInto("skills")
    .values({ id: SYSTEM_SKILL_ID, ...row, is_system: true })
    .onConflict((oc) => oc.column("id").doUpdateSet({ content: row.content, name: row.name }))
    .execute();
}

const visible = (db: Db, userId: string) =>
  db
    .selectFrom("skills")
    .selectAll()
    .where((e) => e.or([e("owner_id", "=", userId), e("scope", "=", "global"), e("is_system", "=", true)]));

export function visibleSkills(db: Db, userId: string, f: { scope?: string; owner?: string } = {}): Promise<Skill[]> {
  let q = visible(db, userId);
  if (f.scope) q = q.where("scope", "=", f.scope);
  if (f.owner) q = q.where("owner_id", "=", f.owner);
  return q.orderBy("updated_at", "desc").orderBy("id").execute();
}

export function visibleSkill(db: Db, userId: string, id: string): Promise<Skill | undefined> {
  return visible(db, userId).where("id", "=", id).executeTakeFirst();
}

/** A visible skill by name, the user's own before a global one, the newest first. */
export function visibleSkillNamed(db: Db, userId: string, name: string): Promise<Skill | undefined> {
  return visible(db, userId)
    .where("name", "=", name)
    .orderBy((e) => e.case().when("owner_id", "=", userId).then(0).else(1).end())
    .orderBy("updated_at", "desc")
    .limit(1)
    .executeTakeFirst();
}

export function insertSkill(
  db: Db,
  s: { name: string; content: string; scope: string; ownerId: string },
): Promise<Skill> {
  return db
    .insertInto("skills")
    .values({ id: crypto.randomUUID(), name: s.name, content: s.content, scope: s.scope, owner_id: s.ownerId })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function updateSkill(
  db: Db,
  id: string,
  s: { name?: string; content?: string; scope?: string },
): Promise<Skill | undefined> {
  return db
    .updateTable("skills")
    .set({ ...s, updated_at: new Date() })
    .where("id", "=", id)
    .returningAll()
    .executeTakeFirst();
}

export async function deleteSkill(db: Db, id: string): Promise<void> {
  await db.deleteFrom("skills").where("id", "=", id).execute();
}
