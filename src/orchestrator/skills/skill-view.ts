/** Skill rows in the wire's shapes (reference-agents 3.1 and 3.4: the reference's keys and the spec's). */
import type { SkillBody, SkillMeta } from "../../contracts/skills";
import type { Skill } from "../db/schema";

export function skillMeta(s: Skill): SkillMeta {
  return {
    id: s.id,
    skill_id: s.id,
    name: s.name,
    scope: s.scope,
    updated_at: s.updated_at.toISOString(),
    ...(s.owner_id ? { owner_id: s.owner_id } : {}),
  };
}

export const skillBody = (s: Skill): SkillBody => ({ ...skillMeta(s), content: s.content, content_md: s.content });
