/**
 * Errors of the OpenAI-compatible routes: `{error:{message,type,param,code}}` as OpenAI clients expect (never
 * problem+json there). One exception type, one handler; ProblemErrors from shared middleware and domain errors are
 * translated.
 */
import type { ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { OpenAIError } from "../../contracts/openai";
import { ProblemError } from "../../lib/http-problem";
import type { Logger } from "../../lib/log";
import { domainProblem } from "../http-errors";

export class OpenAIApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly code: string | null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  get type(): string {
    if (this.status === 401) return "authentication_error";
    if (this.status === 429) return "rate_limit_error";
    if (this.status >= 500 || this.status === 408) return "cynodeai_error";
    return "invalid_request_error";
  }

  body(): OpenAIError {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

const PROBLEM_CODES: Record<number, string> = {
  400: "invalid_request",
  401: "invalid_api_key",
  413: "request_too_large",
  429: "rate_limit_exceeded",
};

/** Any error thrown on these routes as an OpenAIApiError (unexpected ones become a 500 without detail). */
export function asOpenAIError(err: unknown): OpenAIApiError | undefined {
  if (err instanceof OpenAIApiError) return err;
  const problem = err instanceof ProblemError ? err : domainProblem(err);
  if (problem)
    return new OpenAIApiError(
      problem.status,
      problem.detail ?? "Request failed",
      PROBLEM_CODES[problem.status] ?? null,
      null,
      problem.headers,
    );
  if (err instanceof HTTPException && err.status < 500) return new OpenAIApiError(400, "Invalid request body", null);
  return undefined;
}

export function openaiErrorHandler(log: Logger): ErrorHandler {
  return (err, c) => {
    const known = asOpenAIError(err);
    if (!known) log.error("request failed", { method: c.req.method, path: c.req.path, error: err });
    const e = known ?? new OpenAIApiError(500, "Internal server error", "cynodeai_internal_error");
    return c.json(e.body(), e.status, e.headers);
  };
}
