/**
 * `cynork auth logout`: ends the session at the gateway, which kills its access and refresh tokens at once, then
 * clears them from the config file; with the gateway unreachable it still clears them, with a warning.
 */
import { defineCynorkCommand } from "../../command";

export default defineCynorkCommand({
  meta: { name: "logout", description: "End the session at the gateway and forget it locally" },
  async run(_, ctx) {
    const { token, refresh_token } = ctx.config.file;
    if (token) {
      // Local state goes whatever the gateway says: logout must work with the gateway down.
      await ctx
        .authedClient()
        .logout(refresh_token)
        .catch((err: Error) =>
          ctx.io.stderr.write(`warning: gateway logout failed (${err.message}); local session cleared\n`),
        );
    }
    await ctx.saveTokens({ token: undefined, refresh_token: undefined });
    ctx.print({ logged_out: true }, { keys: ["logged_out"] });
  },
});
