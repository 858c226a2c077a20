/** The control-plane app (:12082): health, readiness, metrics and the node routes. */
import { Hono } from "hono";
import { accessLog } from "../../lib/access-log";
import { MAX_REQUEST_BODY_BYTES } from "../../contracts/route";
import { finishApi } from "../../lib/api-app";
import { jobFileRoutes, jobFilesBodyLimit } from "./job-files";
import { healthRoutes, type Readiness } from "../../lib/health-routes";
import { storablePathAndQuery } from "../../lib/storable-input";
import { VERSION } from "../../lib/version";
import { domainProblem } from "../http-errors";
import { createOrchestratorMetrics, type OrchestratorMetrics } from "../metrics";
import { checkReadiness } from "../readiness";
import { clusterCaRoute } from "./cluster-ca";
import { workflowRoutes } from "./workflow";
import { nodeRoutes, randomWorkerToken, type NodeRoutesDeps } from "./nodes";

export type ControlPlaneDeps = Omit<NodeRoutesDeps, "now" | "newId" | "newWorkerToken"> &
  Partial<Pick<NodeRoutesDeps, "now" | "newId" | "newWorkerToken">> & {
    readiness?: () => Promise<Readiness>;
    maxBodyBytes?: number;
    /** Shared with the gateway and the dispatcher of the same process; served at /metrics here. */
    metrics?: OrchestratorMetrics;
    /** The cluster CA, served unauthenticated at /v1/cluster/ca (404 without one). */
    clusterCaPem?: string;
    /** `WORKFLOW_RUNNER_BEARER_TOKEN`: the workflow routes' bearer token; unset, they are open (as the reference's). */
    workflowToken?: string;
    /** The largest artifact a node may store (`MAX_TASK_ARTIFACT_BYTES`); unset: the default cap. */
    maxArtifactBytes?: number;
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
    .use(jobFilesBodyLimit(deps.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES, deps.maxArtifactBytes))
    .use(storablePathAndQuery())
    .route("/", healthRoutes(deps.readiness ?? (() => checkReadiness(deps.db, full.now()))))
    .route("/", nodeRoutes(full))
    .route("/", jobFileRoutes(full))
    .route("/", clusterCaRoute(deps.clusterCaPem))
    .route("/", workflowRoutes({ db: deps.db, log: deps.log, now: full.now, token: deps.workflowToken }));
  return finishApi(app, {
    log: deps.log,
    mapError: domainProblem,
    metrics: (deps.metrics ?? createOrchestratorMetrics(deps.db)).registry,
    reference: {
      title: "CyNodeAI control-plane (nodes)",
      version: VERSION,
      bearer: "The node JWT from POST /v1/nodes/register",
    },
  });
}
