/** The documentation of `/healthz` and `/readyz` (plain text), shared by every server. */
import { describeRoute } from "./openapi";

const tags = ["health"];
const text = (description: string) => ({ contentType: "text/plain", description });

export const HEALTH_DOCS = {
  healthz: describeRoute({ summary: "Liveness", tags, responses: { 200: text("ok") } }),
  readyz: describeRoute({ summary: "Readiness", tags, responses: { 200: text("ready"), 503: text("why not ready") } }),
};
