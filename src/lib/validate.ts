/** hono's valibot validator with the one hook every app uses: a failure, or unstorable text, becomes a 400 problem. */
import { vValidator } from "@hono/valibot-validator";
import type { Context, Next, ValidationTargets } from "hono";
import type { BaseIssue, GenericSchema } from "valibot";
import { markValidator } from "./openapi";
import { BAD_REQUEST_BODY, ProblemError } from "./http-problem";
import { assertStorable, schemaProblem } from "./storable-input";

/**
 * Validates `target` against `schema`. A broken storable rule (decision 17) names its field; otherwise the detail is
 * `detail` when given (the gateway answers every malformed body with the same text, as the reference does; the
 * Worker API words it from the issues), else the first issue's message. What the schema lets through untyped is
 * checked for unstorable text too.
 */
export function validated<T extends GenericSchema, Target extends keyof ValidationTargets>(
  target: Target,
  schema: T,
  detail?: string | ((issues: BaseIssue<unknown>[]) => string),
) {
  const validator = vValidator(target, schema, (result) => {
    if (!result.success) {
      const issues = result.issues as BaseIssue<unknown>[];
      const text = typeof detail === "function" ? detail(issues) : detail;
      throw schemaProblem(issues, text ?? issues[0]?.message ?? BAD_REQUEST_BODY);
    }
    assertStorable(result.output);
  });
  const checked = (async (c: Context, next: Next) => {
    // valibot takes an array for an object; a JSON body here is always an object.
    if (target === "json" && !isJsonObject(await c.req.json().catch(() => undefined)))
      throw new ProblemError(400, typeof detail === "string" ? detail : BAD_REQUEST_BODY);
    return validator(c as never, next);
  }) as typeof validator;
  // The OpenAPI document reads the request schema from here: what is validated is what is documented.
  return markValidator(checked, target, schema);
}

const isJsonObject = (value: unknown) => value !== null && typeof value === "object" && !Array.isArray(value);
