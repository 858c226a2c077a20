/** `/healthz` and `/readyz` (plain text, unauthenticated), on every server. */
import { Hono } from "hono";
import { HEALTH } from "../contracts/routes";
import { describeRoute } from "./openapi";

export type Readiness = { ready: true } | { ready: false; reason: string };

const TEXT = { "content-type": "text/plain; charset=utf-8" };
const tags = ["health"];
const text = (description: string) => ({ contentType: "text/plain", description });

export function healthRoutes(readiness: () => Readiness | Promise<Readiness>) {
  return new Hono()
    .get(
      HEALTH.healthz.pattern,
      describeRoute(HEALTH.healthz, { summary: "Liveness", tags, responses: { 200: text("ok") } }),
      (c) => c.text("ok", 200, TEXT),
    )
    .get(
      HEALTH.readyz.pattern,
      describeRoute(HEALTH.readyz, {
        summary: "Readiness",
        tags,
        responses: { 200: text("ready"), 503: text("why not ready") },
      }),
      async (c) => {
        const r = await readiness();
        return r.ready ? c.text("ready", 200, TEXT) : c.text(r.reason, 503, TEXT);
      },
    );
}
