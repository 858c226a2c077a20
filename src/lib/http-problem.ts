/** One exception type for every HTTP error, and the one `onError` handler that renders it as problem+json. */
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { PROBLEM_CONTENT_TYPE, problemBody, type ProblemStatus } from "../contracts/problem";
import type { Logger } from "./log";
import { requestDatabaseProblem } from "./request-database-error";

export const BAD_REQUEST_BODY = "Invalid request body";
export const BODY_TOO_LARGE = "Request body exceeds maximum size";

export class ProblemError extends Error {
  constructor(
    readonly status: ProblemStatus,
    readonly detail?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? String(status));
  }
}

export function problemResponse(
  status: ProblemStatus,
  detail?: string,
  headers: Record<string, string> = {},
  instance?: string,
): Response {
  return new Response(JSON.stringify(problemBody(status, detail, instance)), {
    status,
    headers: { "content-type": PROBLEM_CONTENT_TYPE, ...headers },
  });
}

export type ProblemHandlerOptions = {
  log: Logger;
  /** Detail used when hono itself rejects a body (malformed JSON, too large). */
  badBodyDetail?: string;
  /** The answer an error of a layer below the routes (a domain error) means, if it means one. */
  mapError?: (err: unknown) => ProblemError | undefined;
};

export function problemHandler({
  log,
  badBodyDetail = BAD_REQUEST_BODY,
  mapError,
}: ProblemHandlerOptions): ErrorHandler {
  return (err: Error, c: Context) => {
    const problem = err instanceof ProblemError ? err : mapError?.(err);
    if (problem) return problemResponse(problem.status, problem.detail, problem.headers);
    if (err instanceof HTTPException && err.status < 500) {
      const status = (err.status === 413 ? 413 : err.status === 401 ? 401 : 400) as ProblemStatus;
      return problemResponse(status, status === 413 ? BODY_TOO_LARGE : badBodyDetail);
    }
    const caused = requestDatabaseProblem(err);
    if (caused) return problemResponse(caused.status, caused.detail);
    // The request id ties the caller's answer to the logged error without exposing the error itself.
    const requestId = crypto.randomUUID();
    log.error("request failed", { method: c.req.method, path: c.req.path, request_id: requestId, error: err });
    return problemResponse(
      500,
      "Internal server error",
      { "x-request-id": requestId },
      `urn:cynodeai:request:${requestId}`,
    );
  };
}

export const notFoundHandler: NotFoundHandler = () => problemResponse(404, "Not found");
