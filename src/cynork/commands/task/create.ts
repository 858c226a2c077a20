/** `cynork task create`: one input mode → POST /v1/tasks; `--result` then waits and prints the result. */
import { type ArgsDef, defineCommand } from "citty";
import type { Ctx } from "../../context";
import { parseFlags } from "../../flags";
import { buildCreateTaskRequest } from "../../task-input";
import { RESULT_LINE, resultValue } from "../../task-views";
import { resultPollDelay, waitForTask } from "../../wait-for-task";

const args = {
  prompt: { type: "string", alias: "p", description: "task text (input mode prompt)" },
  task: { type: "string", alias: "t", description: "task text, same as --prompt" },
  "task-file": { type: "string", alias: "f", description: "file with the task text (≤ 1 MiB)" },
  script: { type: "string", alias: "s", description: "shell script file to run (≤ 256 KiB)" },
  command: { type: "string", description: "shell command to run; repeatable, run in order" },
  "commands-file": { type: "string", description: "file with one command per line (≤ 64 KiB)" },
  name: { type: "string", alias: "task-name", description: "task name" },
  "project-id": { type: "string", description: "project UUID (default: your default project)" },
  attach: {
    type: "string",
    alias: ["a", "attachment"],
    description: "attach a file path; repeatable, ≤ 16 files of ≤ 10 MiB",
  },
  "use-inference": { type: "boolean", description: "give a script/commands job access to the model" },
  "input-mode": { type: "string", description: "prompt, script or commands (relabels -p/-t/-f text)" },
  result: { type: "boolean", description: "wait for the task to end and print its result" },
} satisfies ArgsDef;

export function createCommand(ctx: Ctx) {
  return defineCommand({
    meta: { name: "create", description: "Create a task" },
    args,
    async run({ rawArgs }) {
      const flags = parseFlags(rawArgs, args, ["command", "attach"]);
      const request = await buildCreateTaskRequest(flags);
      const client = ctx.authedClient();
      const task = await client.createTask(request);
      if (!flags.bool("result")) return ctx.print(task, { keys: ["task_id", "task_name"] });
      ctx.info(`task_id=${task.task_id} created, waiting for its result`);
      const result = await waitForTask(ctx, client, task.task_id, resultPollDelay);
      if (result) ctx.print(resultValue(result), RESULT_LINE);
    },
  });
}
