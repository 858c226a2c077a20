/** What every API server shares around its own routes: the body limit, and what it mounts last. */
import type { Hono, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Registry } from "prom-client";
import { mountApiReference } from "./api-reference";
import {
  BODY_TOO_LARGE,
  notFoundHandler,
  ProblemError,
  problemHandler,
  type ProblemHandlerOptions,
} from "./http-problem";
import { mountMetrics } from "./metrics-route";
import type { ApiInfo } from "./openapi";

/** hono's body limit, answering with the error `tooLarge` makes (thrown, so the app's error handler renders it). */
export function limitBody(
  maxSize: number,
  tooLarge: () => Error = () => new ProblemError(413, BODY_TOO_LARGE),
): MiddlewareHandler {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw tooLarge();
    },
  });
}

export type ApiEnd = ProblemHandlerOptions & {
  reference: ApiInfo;
  /** Served at `/metrics` when given. */
  metrics?: Registry;
};

/** Mounts `/metrics`, the OpenAPI document and reference (after every other route), and the problem+json handlers. */
export function finishApi<A extends Hono<any, any, any>>(app: A, end: ApiEnd): A {
  if (end.metrics) mountMetrics(app, end.metrics);
  mountApiReference(app, end.reference);
  app.onError(problemHandler(end));
  app.notFound(notFoundHandler);
  return app;
}
