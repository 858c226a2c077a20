/** Worker API (:12090): health, readiness, and synchronous job runs / cancels for the orchestrator's dispatcher. */
import { timingSafeEqual } from "node:crypto";
import { Hono, type MiddlewareHandler } from "hono";
import * as v from "valibot";
import { MAX_REQUEST_BODY_BYTES } from "../../contracts/route";
import { canceledJobId, WORKER_API } from "../../contracts/routes";
import type { CancelJobResponse } from "../../contracts/worker-api";
import { accessLog } from "../../lib/access-log";
import { finishApi, limitBody } from "../../lib/api-app";
import { healthRoutes } from "../../lib/health-routes";
import { ProblemError } from "../../lib/http-problem";
import { SandboxRejection, type RejectionKind } from "../sandbox/job-sandbox";
import type { InferenceLimits } from "../../lib/inference-request";
import type { Logger } from "../../lib/log";
import { storablePathAndQuery } from "../../lib/storable-input";
import { describeRoute } from "../../lib/openapi";
import { validated } from "../../lib/validate";
import { VERSION } from "../../lib/version";
import { createNodeMetrics, type NodeMetrics } from "../metrics";
import type { SandboxRunner } from "../sandbox/run-job";
import { inferenceChatRoutes } from "./inference-chat";
import { telemetryRoutes, type TelemetrySource } from "./telemetry";

export const BAD_BEARER = "Invalid or missing bearer token";
export const BAD_BODY = "Invalid request body";
const COMMAND_REQUIRED = "sandbox.command is required when job_spec_json is not set";
const IDS_REQUIRED = "task_id and job_id are required";
const { runJob: RUN, cancelJob: CANCEL } = WORKER_API;
/** The HTTP answer to each way the sandbox runner refuses a job. */
const REJECTION_STATUS: Record<RejectionKind, 400 | 409 | 500 | 503> = {
  invalid: 400,
  duplicate: 409,
  full: 503,
  internal: 500,
};
const tags = ["jobs"];
const DOCS = {
  run: describeRoute(RUN, { summary: "Run a job in a sandbox and wait for its end", tags, problems: [400, 401, 413] }),
  cancel: describeRoute(CANCEL, {
    summary: "Cancel a running job",
    description: "`target` is `<job_id>:cancel`.",
    tags,
    problems: [401, 404],
  }),
};

export type WorkerApiDeps = {
  runner: Pick<SandboxRunner, "run" | "cancel">;
  /** The orchestrator's bearer token from the node config; undefined until the config is fetched. */
  bearerToken: () => string | undefined;
  /** null when ready, else the reason `/readyz` reports. */
  notReadyReason: () => string | null;
  log: Logger;
  maxRequestBytes?: () => number;
  /** The node's inference relay socket, when inference runs (OpenAI-compatible chat from the gateway). */
  relaySocket?: () => string | undefined;
  /** The node's ceilings for the chat route's generation options. */
  inferenceLimits?: InferenceLimits;
  /** The Worker Telemetry API's data; undefined answers 503. */
  telemetry?: () => TelemetrySource | undefined;
  /** Served at /metrics; the jobs:run handler reports each run to it. */
  metrics?: NodeMetrics;
};

/** The reference's detail for the first problem, in its check order: command, version, ids, then the rest. */
export function validationDetail(issues: v.BaseIssue<unknown>[]): string {
  const keyed = issues.map((i) => ({ path: (i.path ?? []).map((p) => String(p.key)).join("."), message: i.message }));
  const at = (path: string) => keyed.find((i) => i.path === path || i.path.startsWith(`${path}.`));
  if (at("sandbox.command") || keyed.some((i) => i.path === "sandbox")) return COMMAND_REQUIRED;
  const version = at("version");
  if (version) return version.message;
  if (at("task_id") || at("job_id")) return IDS_REQUIRED;
  const first = keyed[0]!;
  return first.message.startsWith("Invalid") ? `${first.path}: ${first.message}` : first.message;
}

function requireBearer(token: () => string | undefined): MiddlewareHandler {
  return async (c, next) => {
    const expected = token();
    const header = c.req.header("authorization") ?? "";
    const given = Buffer.from(header.startsWith("Bearer ") ? header.slice(7) : "");
    if (!expected || given.length !== Buffer.byteLength(expected) || !timingSafeEqual(given, Buffer.from(expected))) {
      throw new ProblemError(401, BAD_BEARER);
    }
    await next();
  };
}

export function createWorkerApi({
  runner,
  bearerToken,
  notReadyReason,
  log,
  maxRequestBytes = () => MAX_REQUEST_BODY_BYTES,
  relaySocket = () => undefined,
  inferenceLimits,
  telemetry = () => undefined,
  metrics = createNodeMetrics(),
}: WorkerApiDeps) {
  const limit: MiddlewareHandler = (c, next) => limitBody(maxRequestBytes())(c, next);

  const app = new Hono()
    .use(accessLog(log))
    .use(storablePathAndQuery())
    .route(
      "/",
      healthRoutes(() => {
        const reason = notReadyReason();
        return reason === null ? { ready: true } : { ready: false, reason };
      }),
    )
    .post(
      RUN.pattern,
      DOCS.run,
      requireBearer(bearerToken),
      limit,
      validated("json", RUN.body, validationDetail),
      async (c) => {
        const job = c.req.valid("json");
        const ended = metrics.runStarted();
        const result = await runner.run(job).catch((err: unknown) => {
          ended("error");
          throw err instanceof SandboxRejection ? new ProblemError(REJECTION_STATUS[err.kind], err.message) : err;
        });
        ended(result.status);
        return c.json(result);
      },
    )
    .post(CANCEL.pattern, DOCS.cancel, requireBearer(bearerToken), async (c) => {
      const jobId = canceledJobId(c.req.param("target"));
      if (jobId === undefined) throw new ProblemError(404, "Not found");
      const res: CancelJobResponse = { job_id: jobId, canceled: await runner.cancel(jobId) };
      return c.json(res);
    })
    .route("/", inferenceChatRoutes({ auth: requireBearer(bearerToken), relaySocket, log, limits: inferenceLimits }))
    .route("/", telemetryRoutes({ auth: requireBearer(bearerToken), source: telemetry }));
  return finishApi(app, {
    log,
    badBodyDetail: BAD_BODY,
    metrics: metrics.registry,
    reference: {
      title: "CyNodeAI Worker API",
      version: VERSION,
      bearer: "The node's worker token, from its configuration",
    },
  });
}
