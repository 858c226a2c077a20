/** The one place where errors of the layers below the routes (db/, dispatch/, auth/) become HTTP answers. */
import { ProblemError } from "../lib/http-problem";
import { DATABASE_UNAVAILABLE, DatabaseUnavailableError } from "./db/unavailable";

/** The problem a domain error means, or undefined for one that is the server's fault (a 500). */
export function domainProblem(err: unknown): ProblemError | undefined {
  if (err instanceof DatabaseUnavailableError)
    return new ProblemError(503, DATABASE_UNAVAILABLE, { "retry-after": "5" });
  return undefined;
}
