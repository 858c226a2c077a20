/** `/healthz` and `/readyz` (plain text, unauthenticated), shared by the gateway and the control-plane. */
import { Hono } from "hono";
import { HEALTH } from "../contracts/routes";
import { HEALTH_DOCS } from "../lib/health-docs";
import type { Readiness } from "./readiness";

const TEXT = { "content-type": "text/plain; charset=utf-8" };

export function healthRoutes(readiness: () => Promise<Readiness>) {
  return new Hono()
    .get(HEALTH.healthz, HEALTH_DOCS.healthz, (c) => c.text("ok", 200, TEXT))
    .get(HEALTH.readyz, HEALTH_DOCS.readyz, async (c) => {
      const r = await readiness();
      return r.ready ? c.text("ready", 200, TEXT) : c.text(r.reason, 503, TEXT);
    });
}
