/** `cynork task get <id|name>`: one task's status. */
import { type ArgsDef, defineCommand } from "citty";
import type { Ctx } from "../../context";
import { parseFlags } from "../../flags";
import { TASK_LINE } from "../../task-views";

const args = { task: { type: "positional", description: "task id or name" } } satisfies ArgsDef;

export function getCommand(ctx: Ctx) {
  return defineCommand({
    meta: { name: "get", description: "Show a task" },
    args,
    async run({ rawArgs }) {
      const [id] = parseFlags(rawArgs, args).positionals;
      ctx.print(await ctx.authedClient().getTask(id!), TASK_LINE);
    },
  });
}
