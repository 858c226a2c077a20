/** `cynork task cancel <id|name>`: asks first unless `-y`. */
import { type ArgsDef, defineCommand } from "citty";
import type { Ctx } from "../../context";
import { parseFlags } from "../../flags";

const args = {
  task: { type: "positional", description: "task id or name" },
  yes: { type: "boolean", alias: "y", description: "do not ask for confirmation" },
} satisfies ArgsDef;

export function cancelCommand(ctx: Ctx) {
  return defineCommand({
    meta: { name: "cancel", description: "Cancel a task" },
    args,
    async run({ rawArgs }) {
      const flags = parseFlags(rawArgs, args);
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
}
