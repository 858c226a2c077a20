/** `cynork task get <id|name>`: one task's status. */
import { defineCynorkCommand } from "../../command";
import { TASK_LINE } from "../../render";

export default defineCynorkCommand({
  meta: { name: "get", description: "Show a task" },
  args: { task: { type: "positional", description: "task id or name" } },
  run: async ({ positionals: [id] }, ctx) => ctx.print(await ctx.authedClient().getTask(id!), TASK_LINE),
});
