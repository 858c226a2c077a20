/** `cynork task logs <id|name>`: job stdout/stderr; `-F` keeps printing new output until the task ends. */
import { LOG_STREAMS, type TaskLogsResponse } from "../../../contracts/user-api";
import { type Ctx, defineCynorkCommand } from "../../command";
import { usageError } from "../../errors";
import { LOGS_STREAMS, isTerminal, logsValue } from "../../render";
import { DEFAULT_POLL_MS } from "../../wait-for-task";

/** What `next` adds after `prev` (the gateway returns the whole output each time). */
const added = (prev: string, next: string) => (next.startsWith(prev) ? next.slice(prev.length) : next);

/** `-F`: prints what is new at each poll (table mode) until the task ends; JSON mode prints the whole at the end. */
async function follow(ctx: Ctx, id: string, stream: string): Promise<void> {
  const client = ctx.authedClient();
  const live = ctx.globals.output === "table";
  let shown: TaskLogsResponse = { task_id: id, stdout: "", stderr: "" };
  for (;;) {
    // Status first, output second: once the task is seen ended, the output read after it is complete.
    const { status } = await client.getTask(id);
    const logs = await client.taskLogs(id, stream);
    if (live)
      ctx.print({ stdout: added(shown.stdout, logs.stdout), stderr: added(shown.stderr, logs.stderr) }, LOGS_STREAMS);
    shown = logs;
    if (isTerminal(status)) break;
    await ctx.io.sleep(DEFAULT_POLL_MS, ctx.io.interrupt);
    if (ctx.io.interrupt.aborted) return;
  }
  if (!live) ctx.print(logsValue(shown, stream), LOGS_STREAMS);
}

export default defineCynorkCommand({
  meta: { name: "logs", description: "Show a task's output" },
  args: {
    task: { type: "positional", description: "task id or name" },
    stream: { type: "string", description: "stdout, stderr or all", default: "all" },
    follow: { type: "boolean", alias: "F", description: "keep printing output until the task ends" },
  },
  async run(flags, ctx) {
    const stream = flags.string("stream")!;
    if (!(LOG_STREAMS as readonly string[]).includes(stream))
      throw usageError(`--stream must be one of ${LOG_STREAMS.join(", ")}`);
    const [id] = flags.positionals;
    if (flags.bool("follow")) return follow(ctx, id!, stream);
    ctx.print(logsValue(await ctx.authedClient().taskLogs(id!, stream), stream), LOGS_STREAMS);
  },
});
