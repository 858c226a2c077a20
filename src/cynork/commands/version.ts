/** `cynork version`: the client version, no gateway call. */
import { defineCommand } from "citty";
import type { Ctx } from "../context";
import { parseFlags } from "../flags";

export function versionCommand(ctx: Ctx) {
  const args = {};
  return defineCommand({
    meta: { name: "version", description: "Print the cynork version" },
    args,
    run({ rawArgs }) {
      parseFlags(rawArgs, args);
      ctx.print({ version: ctx.version }, { prefix: "cynork", keys: ["version"] });
    },
  });
}
