/** `cynork task cancel <id|name>`: asks first unless `-y`. */
import { defineCynorkCommand } from "../../command";

export default defineCynorkCommand({
  meta: { name: "cancel", description: "Cancel a task" },
  args: {
    task: { type: "positional", description: "task id or name" },
    yes: { type: "boolean", alias: "y", description: "do not ask for confirmation" },
  },
  async run(flags, ctx) {
    const [id] = flags.positionals;
    const client = ctx.authedClient();
    if (!flags.bool("yes")) {
      ctx.io.stderr.write(`Cancel task ${id}? [y/N] `);
      const answer = (await ctx.io.stdin.readLine())?.trim();
      if (answer !== "y" && answer !== "Y") return;
    }
    ctx.print(await client.cancelTask(id!), { keys: ["task_id", "canceled"] });
  },
});
