/** `/healthz` and `/readyz` (plain text, unauthenticated), shared by the gateway and the control-plane. */
import { Hono } from "hono";
import { HEALTH } from "../contracts/routes";
import type { Readiness } from "./readiness";

export function healthRoutes(readiness: () => Promise<Readiness>) {
  return new Hono()
    .get(HEALTH.healthz, (c) => c.text("ok"))
    .get(HEALTH.readyz, async (c) => {
      const r = await readiness();
      return r.ready ? c.text("ready") : c.text(r.reason, 503);
    });
}
