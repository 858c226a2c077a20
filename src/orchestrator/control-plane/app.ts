/** The control-plane app (:12082): health, readiness and the node routes, with one problem+json error handler. */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ProblemError, notFoundHandler, problemHandler } from "../../lib/http-problem";
import { accessLog } from "../../lib/access-log";
import { storablePathAndQuery } from "../../lib/storable-input";
import { mountApiReference } from "../../lib/api-reference";
import { mountMetrics } from "../../lib/metrics-route";
import { VERSION } from "../../lib/version";
import { healthRoutes } from "../health-routes";
import { createOrchestratorMetrics, type OrchestratorMetrics } from "../metrics";
import { checkReadiness, type Readiness } from "../readiness";
import { nodeRoutes, randomWorkerToken, type NodeRoutesDeps } from "./nodes";

export type ControlPlaneDeps = Omit<NodeRoutesDeps, "now" | "newId" | "newWorkerToken"> &
  Partial<Pick<NodeRoutesDeps, "now" | "newId" | "newWorkerToken">> & {
    readiness?: () => Promise<Readiness>;
    maxBodyBytes?: number;
    /** Shared with the gateway and the dispatcher of the same process; served at /metrics here. */
    metrics?: OrchestratorMetrics;
  };

export function createControlPlane(deps: ControlPlaneDeps) {
  const full: NodeRoutesDeps = {
    ...deps,
    now: deps.now ?? (() => new Date()),
    newId: deps.newId ?? (() => crypto.randomUUID()),
    newWorkerToken: deps.newWorkerToken ?? randomWorkerToken,
  };
  const app = new Hono()
    .use(accessLog(deps.log))
    .use(
      bodyLimit({
        maxSize: deps.maxBodyBytes ?? 10 * 1024 * 1024,
        onError: () => {
          throw new ProblemError(413, "Request body exceeds maximum size");
        },
      }),
    )
    .use(storablePathAndQuery())
    .route("/", healthRoutes(deps.readiness ?? (() => checkReadiness(deps.db))))
    .route("/", nodeRoutes(full));
  mountMetrics(app, (deps.metrics ?? createOrchestratorMetrics(deps.db)).registry);
  mountApiReference(app, {
    title: "CyNodeAI control-plane (nodes)",
    version: VERSION,
    bearer: "The node JWT from POST /v1/nodes/register",
  });
  app.onError(problemHandler({ log: deps.log }));
  app.notFound(notFoundHandler);
  return app;
}

export type ControlPlaneApp = ReturnType<typeof createControlPlane>;
