/** The `cynork` command tree. */
import { type CommandDef, defineCommand } from "citty";
import type { Ctx } from "../context";
import { GLOBAL_ARGS } from "../globals";
import { authCommand } from "./auth";
import { chatCommand } from "./chat";
import { completionCommand } from "./completion";
import { modelsCommand } from "./models";
import { statusCommand } from "./status";
import { taskCommand } from "./task";
import { versionCommand } from "./version";

export function rootCommand(ctx: Ctx) {
  const root: CommandDef<any> = defineCommand({
    meta: { name: "cynork", version: ctx.version, description: "Command-line client for the CyNodeAI user gateway" },
    args: GLOBAL_ARGS,
    subCommands: {
      version: () => versionCommand(ctx),
      status: () => statusCommand(ctx),
      auth: () => authCommand(ctx),
      task: () => taskCommand(ctx),
      models: () => modelsCommand(ctx),
      chat: () => chatCommand(ctx),
      completion: () => completionCommand(ctx, root),
    },
  });
  return root;
}
