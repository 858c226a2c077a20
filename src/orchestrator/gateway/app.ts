/** The user API gateway (:12080): health, auth, users, tasks, with one problem+json error path. */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Logger } from "../../lib/log";
import { accessLog } from "../../lib/access-log";
import { storablePathAndQuery } from "../../lib/storable-input";
import { mountApiReference } from "../../lib/api-reference";
import { VERSION } from "../../lib/version";
import { ProblemError, notFoundHandler, problemHandler } from "../../lib/http-problem";
import type { Db } from "../db/connect";
import type { LoginLimiter } from "../auth/login-limiter";
import type { Tokens } from "../auth/tokens";
import { healthRoutes } from "../health-routes";
import type { LoginMetrics } from "../metrics";
import type { Readiness } from "../readiness";
import type { JobDefaults } from "../tasks/job-payload";
import { authRoutes } from "./auth";
import { openaiRoutes, type OpenAIChatOptions } from "./openai";
import type { GatewayEnv } from "./require-user";
import type { TaskEndWaiter } from "../tasks/task-end-waiter";
import { taskRoutes, type CancelJobsOnNodes } from "./tasks";
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
};

export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

const chatDefaults = (deps: GatewayDeps): OpenAIChatOptions => ({
  defaultModel: deps.jobDefaults.inferenceModel,
  openToken: () => {
    throw new Error("the gateway was started without the key to node tokens");
  },
});

export function createGateway(deps: GatewayDeps) {
  const now = deps.now ?? (() => new Date());
  const maxBodyBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const app = new Hono<GatewayEnv>()
    .use(accessLog(deps.log))
    // Before the shared body limit: these routes answer every error, an oversize body too, in OpenAI's shape.
    .route("/", openaiRoutes({ ...deps, now, maxBodyBytes, chat: { ...chatDefaults(deps), ...deps.chat } }))
    // As in the reference, an oversize body is one more "Invalid request body" on the gateway.
    .use(
      "/v1/*",
      bodyLimit({
        maxSize: maxBodyBytes,
        onError: () => {
          throw new ProblemError(400, "Invalid request body");
        },
      }),
    )
    .use(storablePathAndQuery())
    .route("/", healthRoutes(deps.readiness))
    .route("/v1/auth", authRoutes({ ...deps, now }))
    .route("/v1/users", userRoutes({ ...deps, now }))
    .route("/v1/tasks", taskRoutes({ ...deps, now }));
  mountApiReference(app, {
    title: "CyNodeAI user gateway",
    version: VERSION,
    bearer: "An access token from POST /v1/auth/login",
  });
  app.onError(problemHandler({ log: deps.log }));
  app.notFound(notFoundHandler);
  return app;
}

export type GatewayApp = ReturnType<typeof createGateway>;
