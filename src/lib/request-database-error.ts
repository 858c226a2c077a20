/**
 * Database errors the request caused (decision 17): bad data, a broken constraint, a statement too large. They are
 * the caller's 4xx; any other database error is the server's 500.
 */
import type { ProblemStatus } from "../contracts/problem";

type Problem = { status: ProblemStatus; detail: string };

/** The 4xx for a postgres.js error caused by the request, or undefined. */
export function requestDatabaseProblem(err: unknown): Problem | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return undefined;
  // postgres.js refuses a statement with more than 65,534 parameters before sending it.
  if (code === "MAX_PARAMETERS_EXCEEDED") return { status: 400, detail: "Invalid request: too many values" };
  if ((err as Error).name !== "PostgresError") return undefined;
  if (code === "23505") return { status: 409, detail: "Conflict: the value already exists" };
  if (code.startsWith("23")) return { status: 400, detail: "Invalid request: a value breaks a constraint" };
  // 22 data exception (bad encoding, out-of-range value), 54 program limit exceeded (a value too large to index).
  if (code.startsWith("22") || code.startsWith("54"))
    return { status: 400, detail: "Invalid request: a value cannot be stored" };
  return undefined;
}
