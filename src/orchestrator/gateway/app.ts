/** The user API gateway (:12080): health, auth, users, nodes (admin), tasks and the OpenAI-compatible routes. */
import { Hono } from "hono";
import { MAX_REQUEST_BODY_BYTES } from "../../contracts/route";
import { USER_API_SCOPES } from "../../contracts/routes";
import { accessLog } from "../../lib/access-log";
import { finishApi } from "../../lib/api-app";
import { healthRoutes, type Readiness } from "../../lib/health-routes";
import type { Logger } from "../../lib/log";
import { storablePathAndQuery } from "../../lib/storable-input";
import { VERSION } from "../../lib/version";
import type { LoginLimiter } from "../auth/login-limiter";
import type { Tokens } from "../auth/tokens";
import type { Db } from "../db/connect";
import type { CancelJobsOnNodes } from "../dispatch/cancel-jobs";
import { domainProblem } from "../http-errors";
import type { LoginMetrics } from "../metrics";
import { type JobDefaults, taskRoutes } from "./tasks";
import type { TaskEndWaiter } from "../tasks/task-end-waiter";
import { authRoutes } from "./auth";
import { consoleRoutes } from "./console-routes";
import { taskFileRoutes } from "./task-files";
import { attachmentLimits, uploadBodyLimit, type AttachmentLimits } from "./task-uploads";
import type { OpenAIChatOptions } from "./chat-completion";
import { openaiRoutes } from "./openai";
import type { GatewayEnv } from "./require-user";
import { nodeAdminRoutes } from "./nodes";
import { skillRoutes } from "./skills";
import { userRoutes } from "./users";

export type GatewayDeps = {
  db: Db;
  tokens: Tokens;
  limiter: LoginLimiter;
  log: Logger;
  readiness: () => Promise<Readiness>;
  jobDefaults: JobDefaults;
  maxBodyBytes?: number;
  now?: () => Date;
  cancelJobsOnNodes?: CancelJobsOnNodes;
  onJobQueued?: () => void;
  /** Options of the OpenAI-compatible routes (`/v1/models`, `/v1/chat/completions`). */
  chat?: Partial<OpenAIChatOptions>;
  metrics?: LoginMetrics;
  taskEnds?: TaskEndWaiter;
  /** `MAX_ACTIVE_TASKS_PER_USER`; unset: no cap. */
  maxActiveTasksPerUser?: number;
  attachmentLimits?: AttachmentLimits;
};

const chatDefaults = (deps: GatewayDeps): OpenAIChatOptions => ({
  defaultModel: deps.jobDefaults.inferenceModel,
  openToken: () => {
    throw new Error("the gateway was started without the key to node tokens");
  },
});

export function createGateway(deps: GatewayDeps) {
  const routeDeps = { ...deps, now: deps.now ?? (() => new Date()) };
  const maxBodyBytes = deps.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES;
  const app = new Hono<GatewayEnv>()
    .use(accessLog(deps.log))
    // Before the shared body limit: these routes answer every error, an oversize body too, in OpenAI's shape.
    .route("/", openaiRoutes({ ...routeDeps, maxBodyBytes, chat: { ...chatDefaults(deps), ...deps.chat } }))
    // As in the reference, an oversize body is one more "Invalid request body" on the gateway's versioned routes.
    .use(USER_API_SCOPES.versioned, uploadBodyLimit(maxBodyBytes, attachmentLimits(deps.attachmentLimits)))
    .use(storablePathAndQuery())
    .route("/", healthRoutes(deps.readiness))
    .route("/", authRoutes(routeDeps))
    .route("/", userRoutes(routeDeps))
    .route("/", nodeAdminRoutes(routeDeps))
    .route("/", taskRoutes(routeDeps))
    .route("/", skillRoutes(routeDeps))
    .route("/", taskFileRoutes(routeDeps))
    .route("/", consoleRoutes());
  return finishApi(app, {
    log: deps.log,
    mapError: domainProblem,
    reference: { title: "CyNodeAI user gateway", version: VERSION, bearer: "An access token from POST /v1/auth/login" },
  });
}
