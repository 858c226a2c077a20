/** `cynork users reset-password <handle|id> [--password-stdin]` (admin): a new password; the user's sessions end. */
import { defineCynorkCommand } from "../../command";
import { usageError } from "../../errors";
import { newPassword, PASSWORD_STDIN, userId } from "./user-line";

export default defineCynorkCommand({
  meta: { name: "reset-password", description: "Set a user's password (admin); their sessions end" },
  args: { user: { type: "positional", description: "user handle or id" }, ...PASSWORD_STDIN },
  async run(flags, ctx) {
    const id = await userId(ctx, flags.positionals[0]);
    const password = await newPassword(ctx, flags.bool("password-stdin"));
    if (!password) throw usageError("a password is required");
    await ctx.authedClient().resetPassword(id, password);
    ctx.print({ user_id: id, password_reset: true }, { keys: ["user_id", "password_reset"] });
  },
});
