/** `cynork models list`: one model id per line; `-o json` prints the gateway's OpenAI list as is. */
import { defineCommand } from "citty";
import type { Ctx } from "../../context";
import { parseFlags } from "../../flags";

export function listModelsCommand(ctx: Ctx) {
  return defineCommand({
    meta: { name: "list", description: "List models from the gateway" },
    args: {},
    async run({ rawArgs }) {
      parseFlags(rawArgs, {});
      ctx.print(await ctx.authedClient().listModels(), { rows: "data", keys: ["id"], bare: true });
    },
  });
}
