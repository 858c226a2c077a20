/** `cynork version`: the client version, no gateway call. */
import { defineCynorkCommand } from "../command";

export default defineCynorkCommand({
  meta: { name: "version", description: "Print the cynork version" },
  run: (_, ctx) => ctx.print({ version: ctx.version }, { prefix: "cynork", keys: ["version"] }),
});
