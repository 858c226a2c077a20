/** `cynork skills load <file>`: store a skill (its content scanned by the gateway; a refusal exits 6). */
import { defineCynorkCommand } from "../../command";
import { readSkillFile, SKILL_FLAGS, skillScope } from "./skill-file";

export default defineCynorkCommand({
  meta: { name: "load", description: "Load a skill from a Markdown file" },
  args: { file: { type: "positional", description: "skill file (Markdown)" }, ...SKILL_FLAGS },
  async run(flags, ctx) {
    const scope = skillScope(flags.string("scope"));
    const content = await readSkillFile(flags.positionals[0]);
    const name = flags.string("name");
    const meta = await ctx
      .authedClient()
      .loadSkill({ content, ...(name ? { name } : {}), ...(scope ? { scope } : {}) });
    ctx.print(meta, { keys: ["skill_id"] });
  },
});
