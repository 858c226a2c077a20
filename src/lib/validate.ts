/** hono's valibot validator with the one hook every app uses: a failure becomes a 400 problem. */
import { vValidator } from "@hono/valibot-validator";
import type { ValidationTargets } from "hono";
import type { GenericSchema } from "valibot";
import { ProblemError } from "./http-problem";
import { markValidator } from "./openapi";

/**
 * Validates `target` against `schema`. The problem's detail is `detail` when given (the gateway answers every
 * malformed body with the same text, as the reference does), else the first issue's message.
 */
export function validated<T extends GenericSchema, Target extends keyof ValidationTargets>(
  target: Target,
  schema: T,
  detail?: string,
) {
  const validator = vValidator(target, schema, (result) => {
    if (!result.success) throw new ProblemError(400, detail ?? result.issues[0]?.message ?? "Invalid request body");
  });
  // The OpenAPI document reads the request schema from here: what is validated is what is documented.
  return markValidator(validator, target, schema);
}
