/** The one place where errors of the layers below the routes (db/, dispatch/, auth/) become HTTP answers. */
import { ProblemError } from "../lib/http-problem";
import { ActiveJobLimitError } from "./db/tasks";
import { DATABASE_UNAVAILABLE, DatabaseUnavailableError } from "./db/unavailable";

/** Retry-After of a task refused over the active-task cap: a hint, since when a job ends cannot be known. */
export const ACTIVE_LIMIT_RETRY_AFTER_SECONDS = 10;

/** The problem a domain error means, or undefined for one that is the server's fault (a 500). */
export function domainProblem(err: unknown): ProblemError | undefined {
  if (err instanceof DatabaseUnavailableError)
    return new ProblemError(503, DATABASE_UNAVAILABLE, { "retry-after": "5" });
  if (err instanceof ActiveJobLimitError)
    return new ProblemError(429, err.message, { "retry-after": String(ACTIVE_LIMIT_RETRY_AFTER_SECONDS) });
  return undefined;
}
