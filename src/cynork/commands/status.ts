/** `cynork status`: is the gateway up (`GET /healthz`, no token needed)? */
import { defineCynorkCommand } from "../command";
import { CliError, EXIT } from "../errors";

export default defineCynorkCommand({
  meta: { name: "status", description: "Check that the gateway is reachable and healthy" },
  async run(_, ctx) {
    const health = await ctx.client().healthy();
    if (!health.ok) throw new CliError(EXIT.gateway, `gateway unhealthy: ${health.detail}`);
    ctx.print({ gateway: "ok" }, { prefix: "ok" });
  },
});
