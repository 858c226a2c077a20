/** `GET /metrics`: a prom-client registry in the Prometheus text format (control-plane and Worker API only). */
import type { Hono } from "hono";
import type { Registry } from "prom-client";
import { METRICS } from "../contracts/routes";
import { describeRoute } from "./openapi";

export function mountMetrics<A extends Hono<any, any, any>>(app: A, registry: Registry): A {
  app.get(
    METRICS.metrics.pattern,
    describeRoute(METRICS.metrics, {
      summary: "Prometheus metrics (cynode_*)",
      tags: ["metrics"],
      responses: { 200: { contentType: "text/plain", description: "Prometheus text exposition format 0.0.4" } },
    }),
    async (c) => c.body(await registry.metrics(), 200, { "content-type": registry.contentType }),
  );
  return app;
}
