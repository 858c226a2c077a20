/** `cynork auth login`: exchanges handle + password for tokens and stores them. Never a `--password` flag. */
import { type Ctx, defineCynorkCommand } from "../../command";
import { usageError } from "../../errors";

async function prompt(ctx: Ctx, label: string, secret: boolean): Promise<string> {
  ctx.io.stderr.write(label);
  const value = secret ? await ctx.io.stdin.readSecret(() => ctx.io.stderr.write("\n")) : await ctx.io.stdin.readLine();
  return value ?? "";
}

export default defineCynorkCommand({
  meta: { name: "login", description: "Log in and store the session in the config file" },
  args: {
    user: { type: "string", alias: ["u", "handle"], description: "user handle (prompted when absent)" },
    "password-stdin": { type: "boolean", description: "read the password from stdin (requires --user)" },
  },
  async run(flags, ctx) {
    const fromStdin = flags.bool("password-stdin");
    let handle = flags.string("user");
    if (fromStdin && !handle) throw usageError("--password-stdin requires --user");
    handle ||= (await prompt(ctx, "User: ", false)).trim();
    if (!handle) throw usageError("a user handle is required");
    const password = fromStdin
      ? (await ctx.io.stdin.readAll()).replace(/\r?\n$/, "")
      : await prompt(ctx, "Password: ", true);
    if (!password) throw usageError("a password is required");
    const tokens = await ctx.client().login({ handle, password });
    await ctx.saveTokens({ token: tokens.access_token, refresh_token: tokens.refresh_token });
    ctx.print({ logged_in: true, user: handle }, { keys: ["logged_in", "user"] });
  },
});
