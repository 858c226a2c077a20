/** A skill file for `skills load` and `skills update`: read before any request; unreadable is a usage error (exit 2). */
import { readFile } from "node:fs/promises";
import { usageError } from "../../errors";
import { SKILL_SCOPES } from "../../../contracts/skills";

export const SKILL_FLAGS = {
  name: { type: "string", description: "the skill's name" },
  scope: { type: "string", description: `scope: ${SKILL_SCOPES.join(" or ")} (global: admin only)` },
} as const;

export async function readSkillFile(path: string | undefined): Promise<string> {
  if (!path) throw usageError("a skill file is required");
  return readFile(path, "utf8").catch((err: Error) => {
    throw usageError(`skill file ${path}: ${err.message}`);
  });
}

export function skillScope(scope: string | undefined): (typeof SKILL_SCOPES)[number] | undefined {
  if (scope !== undefined && !(SKILL_SCOPES as readonly string[]).includes(scope))
    throw usageError(`--scope must be one of ${SKILL_SCOPES.join(", ")}`);
  return scope as (typeof SKILL_SCOPES)[number] | undefined;
}
