/** hono's valibot validator with the one hook every app uses: a failure, or unstorable text, becomes a 400 problem. */
import { vValidator } from "@hono/valibot-validator";
import type { ValidationTargets } from "hono";
import type { GenericSchema } from "valibot";
import { markValidator } from "./openapi";
import { assertStorable, schemaProblem } from "./storable-input";

/**
 * Validates `target` against `schema`. A broken storable rule (decision 17) names its field; otherwise the detail is
 * `detail` when given (the gateway answers every malformed body with the same text, as the reference does), else the
 * first issue's message. What the schema lets through untyped is checked for unstorable text too.
 */
export function validated<T extends GenericSchema, Target extends keyof ValidationTargets>(
  target: Target,
  schema: T,
  detail?: string,
) {
  const validator = vValidator(target, schema, (result) => {
    if (!result.success)
      throw schemaProblem(result.issues, detail ?? result.issues[0]?.message ?? "Invalid request body");
    assertStorable(result.output);
  });
  // The OpenAPI document reads the request schema from here: what is validated is what is documented.
  return markValidator(validator, target, schema);
}
