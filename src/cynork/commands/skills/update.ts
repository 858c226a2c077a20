/** `cynork skills update <id> <file>`: replace a skill's content (scanned), and its name or scope when given. */
import { defineCynorkCommand } from "../../command";
import { readSkillFile, SKILL_FLAGS, skillScope } from "./skill-file";

export default defineCynorkCommand({
  meta: { name: "update", description: "Replace a skill's content from a file" },
  args: {
    id: { type: "positional", description: "skill id" },
    file: { type: "positional", description: "skill file (Markdown)" },
    ...SKILL_FLAGS,
  },
  async run(flags, ctx) {
    const [id, file] = flags.positionals;
    const scope = skillScope(flags.string("scope"));
    const content = await readSkillFile(file);
    const name = flags.string("name");
    const meta = await ctx
      .authedClient()
      .updateSkill(id!, { content, ...(name ? { name } : {}), ...(scope ? { scope } : {}) });
    ctx.print({ ...meta, updated: true }, { keys: ["skill_id", "updated"] });
  },
});
