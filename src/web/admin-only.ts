/** A refusal of an admin page in words: only an admin may (403); an older gateway has no such route (404). */
import { ApiError } from "./gateway-session";

export const adminOnly =
  (what: string) =>
  (err: unknown): never => {
    if (err instanceof ApiError && err.status === 403) throw new Error(`Only an admin can ${what} (403).`);
    if (err instanceof ApiError && err.status === 404) throw new Error(`This gateway cannot ${what} (404).`);
    throw err;
  };
