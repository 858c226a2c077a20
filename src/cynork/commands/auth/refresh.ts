/** `cynork auth refresh`: rotates the stored token pair with the refresh token. */
import { defineCynorkCommand } from "../../command";
import { CliError, EXIT } from "../../errors";

export default defineCynorkCommand({
  meta: { name: "refresh", description: "Renew the stored session" },
  async run(_, ctx) {
    const refreshToken = ctx.config.file.refresh_token;
    if (!refreshToken) throw new CliError(EXIT.auth, "no refresh token: run 'cynork auth login' first");
    const tokens = await ctx.client().refresh(refreshToken);
    await ctx.saveTokens({ token: tokens.access_token, refresh_token: tokens.refresh_token });
    ctx.print({ refreshed: true }, { prefix: "Token refreshed successfully." });
  },
});
