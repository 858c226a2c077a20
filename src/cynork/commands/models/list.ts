/** `cynork models list`: one model id per line; `-o json` prints the gateway's OpenAI list as is. */
import { defineCynorkCommand } from "../../command";

export default defineCynorkCommand({
  meta: { name: "list", description: "List models from the gateway" },
  run: async (_, ctx) => ctx.print(await ctx.authedClient().listModels(), { rows: "data", keys: ["id"], bare: true }),
});
