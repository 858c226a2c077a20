/** `cynork status`: is the gateway up (`GET /healthz`, no token needed)? */
import { defineCommand } from "citty";
import type { Ctx } from "../context";
import { CliError, EXIT } from "../errors";
import { parseFlags } from "../flags";

export function statusCommand(ctx: Ctx) {
  const args = {};
  return defineCommand({
    meta: { name: "status", description: "Check that the gateway is reachable and healthy" },
    args,
    async run({ rawArgs }) {
      parseFlags(rawArgs, args);
      const health = await ctx.client().healthy();
      if (!health.ok) throw new CliError(EXIT.gateway, `gateway unhealthy: ${health.detail}`);
      ctx.print({ gateway: "ok" }, { prefix: "ok" });
    },
  });
}
