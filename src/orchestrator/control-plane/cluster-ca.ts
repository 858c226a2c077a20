/** GET /v1/cluster/ca: the cluster CA in PEM, for a joining node to compare with its pin (k3s-style). */
import { Hono } from "hono";
import { CONTROL_PLANE_API as API } from "../../contracts/routes";
import { ProblemError } from "../../lib/http-problem";
import { describeRoute } from "../../lib/openapi";

export function clusterCaRoute(caPem: string | undefined) {
  const doc = describeRoute(API.clusterCa, {
    summary: "The cluster CA (PEM), for a joining node to check against its pinned digest",
    tags: ["nodes"],
    problems: [404],
  });
  return new Hono().get(API.clusterCa.pattern, doc, (c) => {
    if (!caPem) throw new ProblemError(404, "This orchestrator has no cluster CA (TLS is not set up)");
    return c.body(caPem, 200, { "content-type": "application/x-pem-file" });
  });
}
