/** `cynork task result <id|name>`: status and job output; `--wait` long-polls until the task ends. */
import { defineCynorkCommand } from "../../command";
import { RESULT_LINE, resultValue } from "../../render";
import { pollInterval, waitForTask } from "../../wait-for-task";

export default defineCynorkCommand({
  meta: { name: "result", description: "Show a task's result" },
  args: {
    task: { type: "positional", description: "task id or name" },
    wait: { type: "boolean", alias: "w", description: "wait until the task ends" },
    "wait-interval": {
      type: "string",
      description: "poll interval while waiting on a gateway without long-poll (min 1s)",
      default: "2s",
    },
  },
  async run(flags, ctx) {
    const interval = pollInterval(flags.string("wait-interval"), "--wait-interval");
    const [id] = flags.positionals;
    const client = ctx.authedClient();
    const result = flags.bool("wait") ? await waitForTask(ctx, client, id!, interval) : await client.taskResult(id!);
    if (result) ctx.print(resultValue(result), RESULT_LINE);
  },
});
