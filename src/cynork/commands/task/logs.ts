/** `cynork task logs <id|name>`: job stdout/stderr; `-F` keeps printing new output until the task ends. */
import { type ArgsDef, defineCommand } from "citty";
import { LOG_STREAMS, type TaskLogsResponse } from "../../../contracts/user-api";
import type { Ctx } from "../../context";
import { usageError } from "../../errors";
import { parseFlags } from "../../flags";
import { LOGS_STREAMS, isTerminal, logsValue } from "../../task-views";
import { DEFAULT_POLL_MS } from "../../wait-for-task";

const args = {
  task: { type: "positional", description: "task id or name" },
  stream: { type: "string", description: "stdout, stderr or all", default: "all" },
  follow: { type: "boolean", alias: "F", description: "keep printing output until the task ends" },
} satisfies ArgsDef;

/** What `next` adds after `prev` (the gateway returns the whole output each time). */
const added = (prev: string, next: string) => (next.startsWith(prev) ? next.slice(prev.length) : next);

export function logsCommand(ctx: Ctx) {
  return defineCommand({
    meta: { name: "logs", description: "Show a task's output" },
    args,
    async run({ rawArgs }) {
      const flags = parseFlags(rawArgs, args);
      const stream = flags.string("stream")!;
      if (!(LOG_STREAMS as readonly string[]).includes(stream))
        throw usageError(`--stream must be one of ${LOG_STREAMS.join(", ")}`);
      const [id] = flags.positionals;
      const client = ctx.authedClient();
      if (!flags.bool("follow")) return ctx.print(logsValue(await client.taskLogs(id!, stream), stream), LOGS_STREAMS);
      const live = ctx.globals.output === "table";
      let shown: TaskLogsResponse = { task_id: id!, stdout: "", stderr: "" };
      for (;;) {
        // Status first, output second: once the task is seen ended, the output read after it is complete.
        const { status } = await client.getTask(id!);
        const logs = await client.taskLogs(id!, stream);
        if (live)
          ctx.print(
            { stdout: added(shown.stdout, logs.stdout), stderr: added(shown.stderr, logs.stderr) },
            LOGS_STREAMS,
          );
        shown = logs;
        if (isTerminal(status)) break;
        await ctx.io.sleep(DEFAULT_POLL_MS, ctx.io.interrupt);
        if (ctx.io.interrupt.aborted) return;
      }
      if (!live) ctx.print(logsValue(shown, stream), LOGS_STREAMS);
    },
  });
}
