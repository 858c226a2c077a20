/** `cynork skills get <id>`: a skill's metadata line, then its content (JSON: both). */
import { defineCynorkCommand } from "../../command";

export default defineCynorkCommand({
  meta: { name: "get", description: "Show a skill and its content" },
  args: { id: { type: "positional", description: "skill id" } },
  async run({ positionals: [id] }, ctx) {
    const skill = await ctx.authedClient().getSkill(id!);
    if (ctx.globals.output === "json") return ctx.print(skill, {});
    ctx.print(skill, { keys: ["skill_id", "name", "scope"] });
    ctx.io.stdout.write(skill.content.endsWith("\n") ? skill.content : `${skill.content}\n`);
  },
});
