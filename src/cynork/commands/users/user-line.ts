/** What the users commands share: one user per line, a handle or id resolved to the id, a password read safely. */
import type { UserResponse } from "../../../contracts/user-api";
import { type Ctx, defineCynorkCommand } from "../../command";
import { CliError, EXIT, usageError } from "../../errors";

export const USER_LINE = { keys: ["id", "handle", "is_active", "email"] };

/** The id of the user named by `handleOrId` (the routes take ids; people type handles). */
export async function userId(ctx: Ctx, handleOrId: string | undefined): Promise<string> {
  if (!handleOrId) throw usageError("a user handle or id is required");
  const { users } = await ctx.authedClient().listUsers();
  const user = users.find((u: UserResponse) => u.handle === handleOrId || u.id === handleOrId);
  if (!user) throw new CliError(EXIT.notFound, `no user ${handleOrId}`);
  return user.id;
}

/** A new password: stdin with `--password-stdin`, else asked twice on the terminal. Never an argument. */
export async function newPassword(ctx: Ctx, fromStdin: boolean): Promise<string> {
  const { stdin, stderr } = ctx.io;
  if (fromStdin) return (await stdin.readAll()).replace(/\r?\n$/, "");
  if (!stdin.isTTY) throw usageError("no terminal to ask for the password: pass --password-stdin");
  const ask = async (label: string) => {
    stderr.write(label);
    return (await stdin.readSecret(() => stderr.write("\n"))) ?? "";
  };
  const first = await ask("New password: ");
  if (first !== (await ask("Again: "))) throw usageError("the passwords differ");
  return first;
}

export const PASSWORD_STDIN = {
  "password-stdin": { type: "boolean", description: "read the password from stdin" },
} as const;

/** `cynork users disable|enable <handle|id>` (admin); disabling ends the user's sessions at once. */
export const activeSwitch = (verb: "disable" | "enable") =>
  defineCynorkCommand({
    meta: {
      name: verb,
      description:
        verb === "disable" ? "Disable a user (admin); their tokens stop working at once" : "Enable a user (admin)",
    },
    args: { user: { type: "positional", description: "user handle or id" } },
    async run(flags, ctx) {
      const id = await userId(ctx, flags.positionals[0]);
      const client = ctx.authedClient();
      ctx.print(await (verb === "disable" ? client.disableUser(id) : client.enableUser(id)), USER_LINE);
    },
  });
