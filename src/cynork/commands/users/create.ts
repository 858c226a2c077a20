/** `cynork users create <handle> [--email e] [--password-stdin]` (admin): `POST /v1/users`. */
import { defineCynorkCommand } from "../../command";
import { usageError } from "../../errors";
import { newPassword, PASSWORD_STDIN, USER_LINE } from "./user-line";

export default defineCynorkCommand({
  meta: {
    name: "create",
    description: "Create a user (admin); the password is asked for, or read with --password-stdin",
  },
  args: {
    handle: { type: "positional", description: "the new user's handle" },
    email: { type: "string", description: "the user's email address" },
    ...PASSWORD_STDIN,
  },
  async run(flags, ctx) {
    const [handle] = flags.positionals;
    if (!handle) throw usageError("a user handle is required");
    const password = await newPassword(ctx, flags.bool("password-stdin"));
    if (!password) throw usageError("a password is required");
    const email = flags.string("email");
    ctx.print(await ctx.authedClient().createUser({ handle, password, ...(email ? { email } : {}) }), USER_LINE);
  },
});
