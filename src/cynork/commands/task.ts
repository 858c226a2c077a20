/** `cynork task …`: create tasks and follow them. All need a token. */
import { defineCommand } from "citty";
import type { Ctx } from "../context";
import { cancelCommand } from "./task/cancel";
import { createCommand } from "./task/create";
import { getCommand } from "./task/get";
import { listCommand } from "./task/list";
import { logsCommand } from "./task/logs";
import { resultCommand } from "./task/result";
import { watchCommand } from "./task/watch";

export function taskCommand(ctx: Ctx) {
  return defineCommand({
    meta: { name: "task", description: "Create, list, inspect and cancel tasks" },
    subCommands: {
      create: () => createCommand(ctx),
      list: () => listCommand(ctx),
      get: () => getCommand(ctx),
      result: () => resultCommand(ctx),
      cancel: () => cancelCommand(ctx),
      logs: () => logsCommand(ctx),
      watch: () => watchCommand(ctx),
    },
  });
}
