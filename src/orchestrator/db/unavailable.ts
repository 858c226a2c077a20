/**
 * A database that cannot be reached (down, restarting, too slow to answer) is a 503 problem for the caller, never
 * a 500 or a hang (ARCHITECTURE decision 15). The bounded driver (connect.ts) turns every such failure into this
 * one error, which the routes map to their 503 (http-errors.ts).
 */

export const DATABASE_UNAVAILABLE = "Database unavailable; retry shortly";

export class DatabaseUnavailableError extends Error {
  constructor(
    cause: unknown,
    /** The call did not answer in time (rather than failing at once). */
    readonly timedOut = false,
  ) {
    super(DATABASE_UNAVAILABLE, { cause });
  }
}

/** Socket-level failures and postgres.js' own connection errors. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOENT", // the Unix socket of a server that is not running
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECTION_ENDED",
  "CONNECT_TIMEOUT",
]);

/** SQLSTATEs of a server that is going away or not there yet: class 08, shutdown, starting up, full. */
const SERVER_CODES = new Set(["57P01", "57P02", "57P03", "53300"]);

export function isConnectionFailure(err: unknown): boolean {
  if (err instanceof DatabaseUnavailableError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return false;
  return CONNECTION_CODES.has(code) || SERVER_CODES.has(code) || code.startsWith("08");
}
