/** `cynork task list`: your tasks, newest first, one page at a time. */
import { type ArgsDef, defineCommand } from "citty";
import { TASK_STATUSES } from "../../../contracts/user-api";
import type { Ctx } from "../../context";
import { usageError } from "../../errors";
import { parseFlags } from "../../flags";
import { TASK_LINE } from "../../task-views";

const args = {
  status: { type: "string", description: `only tasks with this status (${TASK_STATUSES.join(", ")})` },
  limit: { type: "string", alias: "l", description: "page size, 1..200", default: "50" },
  cursor: { type: "string", description: "page cursor from a previous next_cursor" },
  offset: { type: "string", description: "skip this many tasks" },
} satisfies ArgsDef;

function integer(text: string, flag: string): number {
  if (!/^-?\d+$/.test(text)) throw usageError(`${flag} must be an integer`);
  return Number(text);
}

export function listCommand(ctx: Ctx) {
  return defineCommand({
    meta: { name: "list", description: "List tasks" },
    args,
    async run({ rawArgs }) {
      const flags = parseFlags(rawArgs, args);
      const status = flags.string("status");
      if (status !== undefined && !(TASK_STATUSES as readonly string[]).includes(status))
        throw usageError(`--status must be one of ${TASK_STATUSES.join(", ")}`);
      const limit = Math.min(200, Math.max(1, integer(flags.string("limit")!, "--limit")));
      const offset = flags.string("offset");
      if (offset !== undefined && integer(offset, "--offset") < 0) throw usageError("--offset must not be negative");
      const page = await ctx
        .authedClient()
        .listTasks({ limit: String(limit), offset, cursor: flags.string("cursor"), status });
      ctx.print(page, { ...TASK_LINE, rows: "tasks" });
      if (page.next_cursor) ctx.info(`more: --cursor ${page.next_cursor}`);
    },
  });
}
