/** `cynork users list` (admin): one user per line; `-o json` prints the gateway's answer. */
import { defineCynorkCommand } from "../../command";
import { USER_LINE } from "./user-line";

export default defineCynorkCommand({
  meta: { name: "list", description: "List users (admin)" },
  run: async (_, ctx) => ctx.print(await ctx.authedClient().listUsers(), { ...USER_LINE, rows: "users" }),
});
