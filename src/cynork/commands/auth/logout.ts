/** `cynork auth logout`: ends the stored session at the gateway (best effort) and clears it from the config file. */
import { defineCommand } from "citty";
import type { Ctx } from "../../context";
import { parseFlags } from "../../flags";

export function logoutCommand(ctx: Ctx) {
  const args = {};
  return defineCommand({
    meta: { name: "logout", description: "Forget the stored session" },
    args,
    async run({ rawArgs }) {
      parseFlags(rawArgs, args);
      const { token, refresh_token } = ctx.config.file;
      if (token && refresh_token) {
        // Revoking the refresh session is a courtesy: logout must work with the gateway down.
        await ctx
          .authedClient()
          .logout(refresh_token)
          .catch((err: Error) => ctx.info(`note: gateway logout failed (${err.message}); local session cleared`));
      }
      await ctx.saveTokens({ token: undefined, refresh_token: undefined });
      ctx.print({ logged_out: true }, { keys: ["logged_out"] });
    },
  });
}
