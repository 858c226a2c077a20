/**
 * `cynork skills delete <id>`: on a terminal it asks first unless `-y` (any answer but y keeps the skill, exit 0);
 * from a script it deletes at once, as the reference's.
 */
import { defineCynorkCommand } from "../../command";
import { confirmed, confirmingArgs } from "../../confirm";

export default defineCynorkCommand({
  meta: { name: "delete", description: "Delete a skill" },
  args: confirmingArgs("id", "skill id"),
  async run(flags, ctx) {
    const id = flags.positionals[0]!;
    if (ctx.io.stdin.isTTY && !flags.bool("yes") && !(await confirmed(ctx.io, `Delete skill ${id}?`))) return;
    await ctx.authedClient().deleteSkill(id);
    ctx.print({ skill_id: id, deleted: true }, { keys: ["skill_id", "deleted"] });
  },
});
