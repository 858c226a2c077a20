/** GET /v1/cluster/ca: the cluster CA in PEM, for a joining node to compare with its pin (k3s-style). */
import { Hono } from "hono";
import { CONTROL_PLANE_API as API } from "../../contracts/routes";
import { ProblemError } from "../../lib/http-problem";

export function clusterCaRoute(caPem: string | undefined) {
  return new Hono().get(API.clusterCa.pattern, (c) => {
    if (!caPem) throw new ProblemError(404, "This orchestrator has no cluster CA (TLS is not set up)");
    return c.body(caPem, 200, { "content-type": "application/x-pem-file" });
  });
}
