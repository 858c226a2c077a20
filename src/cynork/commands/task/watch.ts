/**
 * `cynork task watch <id>`: re-prints the result every interval until the task ends (like watch(1)); each
 * refresh is a long-poll of one interval, so the end shows at once (an older gateway is polled instead). While the
 * task runs, each refresh also shows its logs so far (an agent job's step lines).
 */
import { MAX_RESULT_WAIT_S } from "../../../contracts/user-api";
import { defineCynorkCommand } from "../../command";
import { LOGS_STREAMS, RESULT_LINE, isTerminal, resultValue } from "../../render";
import { longPollResult, pollInterval } from "../../wait-for-task";

export default defineCynorkCommand({
  meta: { name: "watch", description: "Follow a task's result until it ends" },
  args: {
    task: { type: "positional", description: "task id or name" },
    interval: { type: "string", alias: "n", description: "refresh interval (min 1s)", default: "2s" },
    "no-clear": { type: "boolean", description: "do not clear the screen between refreshes" },
  },
  async run(flags, ctx) {
    const intervalText = flags.string("interval")!;
    const interval = pollInterval(intervalText, "--interval");
    const [id] = flags.positionals;
    const client = ctx.authedClient();
    const { io } = ctx;
    const table = ctx.globals.output === "table";
    const waitS = Math.min(interval / 1000, MAX_RESULT_WAIT_S);
    for (;;) {
      const answer = await longPollResult(ctx, client, id!, waitS);
      if (!answer) return;
      const { result, early } = answer;
      const done = isTerminal(result.status);
      // JSON mode prints one value: the final result.
      if (table) {
        if (io.stdout.isTTY && !flags.bool("no-clear")) io.stdout.write("\u001b[H\u001b[2J");
        const now = io
          .now()
          .toISOString()
          .replace(/\.\d+Z$/, "Z");
        io.stdout.write(`Every ${intervalText}: cynork task result ${id}  ${now}\n\n`);
      }
      if (table || done) ctx.print(resultValue(result), RESULT_LINE);
      if (done) return;
      // While it runs, what the task's logs show so far: an agent job's step lines, one per step.
      if (table) ctx.print({ stdout: (await client.taskLogs(id!, "stdout")).stdout, stderr: "" }, LOGS_STREAMS);
      if (early) await io.sleep(interval, io.interrupt);
      if (io.interrupt.aborted) return;
    }
  },
});
