/**
 * Skills (reference-agents 3.1): list, get, load, update, delete, as the caller. Every write of content goes through
 * the scan (3.2) and a refused one answers the reference's policy JSON with 400, storing nothing. Scope `user` is the
 * caller's own; `global` is an admin's (403 otherwise), as are writes to another user's global skill; the system
 * skill is read-only (403).
 */
import { Hono } from "hono";
import type { ProblemStatus } from "../../contracts/problem";
import type { AnyRoute } from "../../contracts/route";
import { USER_API, USER_API_SCOPES } from "../../contracts/routes";
import type { LoadSkillRequest, UpdateSkillRequest } from "../../contracts/skills";
import { ProblemError } from "../../lib/http-problem";
import { describeRoute } from "../../lib/openapi";
import { validated } from "../../lib/validate";
import type { Skill } from "../db/schema";
import { deleteSkill, insertSkill, updateSkill, visibleSkill, visibleSkills } from "../db/skills";
import { isUuid } from "../db/tasks";
import { scanSkill } from "../skills/skill-scan";
import { skillBody, skillMeta } from "../skills/skill-view";
import { requireUser, type AuthedUser, type GatewayEnv, type GatewayRouteDeps } from "./require-user";
import { ADMIN_HANDLE } from "./users";

const doc = (route: AnyRoute, summary: string, problems: ProblemStatus[]) =>
  describeRoute(route, { summary, tags: ["skills"], problems: [401, ...problems] });

/** The policy answer for refused content, or undefined when it may be stored. */
function refusal(content: string | undefined): Response | undefined {
  const violation = content === undefined ? undefined : scanSkill(content);
  return violation && Response.json(violation, { status: 400 });
}

function checkScope(caller: AuthedUser, scope: string | null | undefined): void {
  if (scope === "global" && caller.handle !== ADMIN_HANDLE)
    throw new ProblemError(403, "Only an admin may write global skills");
}

async function writableSkill(d: GatewayRouteDeps, caller: AuthedUser, id: string): Promise<Skill> {
  if (!isUuid(id)) throw new ProblemError(400, "invalid skill id");
  const skill = await visibleSkill(d.db, caller.id, id.toLowerCase());
  if (!skill) throw new ProblemError(404, "skill not found");
  if (skill.is_system) throw new ProblemError(403, "The system skill is read-only");
  if (skill.owner_id !== caller.id && caller.handle !== ADMIN_HANDLE)
    throw new ProblemError(403, "Only the skill's owner or an admin may change it");
  return skill;
}

async function load(d: GatewayRouteDeps, caller: AuthedUser, req: LoadSkillRequest): Promise<Response> {
  checkScope(caller, req.scope);
  const refused = refusal(req.content);
  if (refused) return refused;
  const skill = await insertSkill(d.db, {
    name: req.name?.trim() || "Untitled skill",
    content: req.content,
    scope: req.scope ?? "user",
    ownerId: caller.id,
  });
  d.log.info("skill loaded", { skill_id: skill.id, user_id: caller.id, scope: skill.scope });
  return Response.json(skillMeta(skill), { status: 201 });
}

async function update(d: GatewayRouteDeps, caller: AuthedUser, id: string, req: UpdateSkillRequest) {
  const skill = await writableSkill(d, caller, id);
  checkScope(caller, req.scope);
  const refused = refusal(req.content);
  if (refused) return refused;
  const changes = {
    ...(req.content !== undefined ? { content: req.content } : {}),
    ...(req.name?.trim() ? { name: req.name.trim() } : {}),
    ...(req.scope ? { scope: req.scope } : {}),
  };
  return Response.json(skillMeta((await updateSkill(d.db, skill.id, changes))!));
}

export function skillRoutes(d: GatewayRouteDeps) {
  const { listSkills: LIST, skill: GET, loadSkill: LOAD, updateSkill: PUT, deleteSkill: DELETE } = USER_API;
  return (
    new Hono<GatewayEnv>()
      // `/v1/skills/*` covers `/v1/skills` too.
      .use(USER_API_SCOPES.skills, requireUser(d.tokens))
      .get(
        LIST.pattern,
        doc(LIST, "The skills the caller can use, newest first", []),
        validated("query", LIST.query),
        async (c) => {
          const q = c.req.valid("query");
          const skills = await visibleSkills(d.db, c.get("user").id, { scope: q.scope, owner: q.owner });
          return c.json({ skills: skills.map(skillMeta) });
        },
      )
      .post(
        LOAD.pattern,
        doc(LOAD, "Store a skill (scanned: refused content answers the policy violation)", [400, 403]),
        validated("json", LOAD.body),
        (c) => load(d, c.get("user"), c.req.valid("json")),
      )
      .get(GET.pattern, doc(GET, "A skill with its content", [400, 404]), async (c) => {
        const id = c.req.param("id");
        if (!isUuid(id)) throw new ProblemError(400, "invalid skill id");
        const skill = await visibleSkill(d.db, c.get("user").id, id.toLowerCase());
        if (!skill) throw new ProblemError(404, "skill not found");
        return c.json(skillBody(skill));
      })
      .put(
        PUT.pattern,
        doc(PUT, "Change a skill (content scanned)", [400, 403, 404]),
        validated("json", PUT.body),
        (c) => update(d, c.get("user"), c.req.param("id"), c.req.valid("json")),
      )
      .delete(DELETE.pattern, doc(DELETE, "Delete a skill", [400, 403, 404]), async (c) => {
        const skill = await writableSkill(d, c.get("user"), c.req.param("id"));
        await deleteSkill(d.db, skill.id);
        return c.body(null, 204);
      })
  );
}
