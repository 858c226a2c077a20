/** Skills (reference-agents 3): stored Markdown that steers agents, user or global (admin) scope, scanned on write. */
import * as v from "valibot";

export const SKILL_SCOPES = ["user", "global"] as const;
export type SkillScope = (typeof SKILL_SCOPES)[number];

/** A skill's metadata: the reference's keys (`id`) and the spec's (`skill_id`). */
export const SkillMeta = v.object({
  id: v.string(),
  skill_id: v.string(),
  name: v.string(),
  scope: v.string(),
  updated_at: v.string(),
  owner_id: v.optional(v.string()),
});
export type SkillMeta = v.InferOutput<typeof SkillMeta>;

/** A skill with its content (`content`, and the spec's `content_md`). */
export const SkillBody = v.object({ ...SkillMeta.entries, content: v.string(), content_md: v.string() });
export type SkillBody = v.InferOutput<typeof SkillBody>;

export const SkillList = v.object({ skills: v.array(SkillMeta) });
export type SkillList = v.InferOutput<typeof SkillList>;

export const SkillListQuery = v.object({ scope: v.optional(v.string()), owner: v.optional(v.string()) });

const Scope = v.optional(v.nullable(v.picklist(SKILL_SCOPES, "scope must be user or global")));
const Name = v.optional(v.nullable(v.string()));

export const LoadSkillRequest = v.looseObject({
  content: v.pipe(v.string("content required"), v.nonEmpty("content required")),
  name: Name,
  scope: Scope,
});
export type LoadSkillRequest = v.InferOutput<typeof LoadSkillRequest>;

export const UpdateSkillRequest = v.looseObject({ content: v.optional(v.string()), name: Name, scope: Scope });
export type UpdateSkillRequest = v.InferOutput<typeof UpdateSkillRequest>;

/** The answer (400) when a skill's content is refused (reference-agents 3.2); nothing is stored. */
export const PolicyViolation = v.object({
  error: v.literal("policy violation"),
  category: v.picklist(["hidden_instructions", "instruction_override", "secret_bypass"]),
  triggering_text: v.string(),
});
export type PolicyViolation = v.InferOutput<typeof PolicyViolation>;
