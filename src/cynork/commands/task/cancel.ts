/**
 * `cynork task cancel <id|name>`: asks first unless `-y`. Only a person at a terminal is asked; without one (a
 * script, a pipe) there is no one to answer, so `-y` is required and its absence is a usage error, never a silent
 * exit 0 that canceled nothing.
 */
import { defineCynorkCommand } from "../../command";
import { confirmed, requireTerminal, confirmingArgs } from "../../confirm";

export default defineCynorkCommand({
  meta: { name: "cancel", description: "Cancel a task (asks first on a terminal; -y is required otherwise)" },
  args: confirmingArgs("task", "task id or name"),
  async run(flags, ctx) {
    const [id] = flags.positionals;
    const ask = !flags.bool("yes");
    if (ask) requireTerminal(ctx.io, `not canceling task ${id}`);
    const client = ctx.authedClient();
    if (ask && !(await confirmed(ctx.io, `Cancel task ${id}?`, `task ${id} not canceled`))) return;
    ctx.print(await client.cancelTask(id!), { keys: ["task_id", "canceled"] });
  },
});
