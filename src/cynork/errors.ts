/** The CLI's one error type and the exit codes of reference-contracts 7.3; `main` turns a CliError into its code. */
import { STATUS_CODES } from "node:http";

export const EXIT = {
  ok: 0,
  usage: 2,
  auth: 3,
  notFound: 4,
  conflict: 5,
  validation: 6,
  gateway: 7,
  internal: 8,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliError(EXIT.usage, message);

/** Exit code for a gateway HTTP status that is not a success. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if (status === 409) return EXIT.conflict;
  if (status === 400 || status === 422) return EXIT.validation;
  return EXIT.gateway;
}

/** `401 Unauthorized: <detail>`, or just the status line without a detail, as the reference prints it. */
export function statusMessage(status: number, detail?: string): string {
  const line = `${status} ${STATUS_CODES[status] ?? "Unknown Status"}`;
  return detail ? `${line}: ${detail}` : line;
}
