/** `cynork auth whoami`: the user the token belongs to. */
import { defineCommand } from "citty";
import type { Ctx } from "../../context";
import { parseFlags } from "../../flags";

export function whoamiCommand(ctx: Ctx) {
  const args = {};
  return defineCommand({
    meta: { name: "whoami", description: "Show the logged-in user" },
    args,
    async run({ rawArgs }) {
      parseFlags(rawArgs, args);
      const me = await ctx.authedClient().me();
      ctx.print({ id: me.id, user: me.handle }, { keys: ["id", "user"] });
    },
  });
}
