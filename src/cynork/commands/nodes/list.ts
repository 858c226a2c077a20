/** `cynork nodes list` (admin): one node per line; `-o json` prints the gateway's answer. */
import { defineCynorkCommand } from "../../command";
import { NODE_LINE } from "./node-line";

export default defineCynorkCommand({
  meta: { name: "list", description: "List nodes: status, liveness, capacity, models (admin)" },
  run: async (_, ctx) => ctx.print(await ctx.authedClient().listNodes(), { ...NODE_LINE, rows: "nodes" }),
});
