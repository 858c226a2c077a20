/** `cynork task list`: your tasks, newest first, one page at a time. */
import { TASK_STATUSES } from "../../../contracts/user-api";
import { defineCynorkCommand } from "../../command";
import { usageError } from "../../errors";
import { TASK_LINE } from "../../render";

function integer(text: string, flag: string): number {
  if (!/^-?\d+$/.test(text)) throw usageError(`${flag} must be an integer`);
  return Number(text);
}

export default defineCynorkCommand({
  meta: { name: "list", description: "List tasks" },
  args: {
    status: { type: "string", description: `only tasks with this status (${TASK_STATUSES.join(", ")})` },
    limit: { type: "string", alias: "l", description: "page size, 1..200", default: "50" },
    cursor: { type: "string", description: "page cursor from a previous next_cursor" },
    offset: { type: "string", description: "skip this many tasks" },
  },
  async run(flags, ctx) {
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
