/** `cynork skills list`: the skills you can use (yours, global ones, the system skill), newest first. */
import { defineCynorkCommand } from "../../command";

export default defineCynorkCommand({
  meta: { name: "list", description: "List skills" },
  async run(_, ctx) {
    const { skills } = await ctx.authedClient().listSkills();
    ctx.print(
      { skills, next_cursor: "" },
      { keys: ["skill_id", "name", "scope", "owner_id", "updated_at"], rows: "skills" },
    );
  },
});
