/** `cynork auth whoami`: the user the token belongs to. */
import { defineCynorkCommand } from "../../command";

export default defineCynorkCommand({
  meta: { name: "whoami", description: "Show the logged-in user" },
  async run(_, ctx) {
    const me = await ctx.authedClient().me();
    ctx.print({ id: me.id, user: me.handle }, { keys: ["id", "user"] });
  },
});
