/** hono's valibot validator with the one hook every app uses: a failure, or unstorable text, becomes a 400 problem. */
import { vValidator } from "@hono/valibot-validator";
import type { Context, Next, ValidationTargets } from "hono";
import * as v from "valibot";
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
  const hook = (result: { success: boolean; issues?: unknown; output: unknown }) => {
    if (!result.success) {
      const issues = result.issues as BaseIssue<unknown>[];
      const text = typeof detail === "function" ? detail(issues) : detail;
      throw schemaProblem(issues, text ?? issues[0]?.message ?? BAD_REQUEST_BODY);
    }
    assertStorable(result.output);
  };
  const validator = vValidator(target, schema, hook);
  // A JSON body is read whatever its content type says (as the reference's servers do), and is always an object:
  // valibot would take an array for one.
  const json = (async (c: Context, next: Next) => {
    const body: unknown = await c.req.json().catch(() => undefined);
    if (!isJsonObject(body)) throw new ProblemError(400, typeof detail === "string" ? detail : BAD_REQUEST_BODY);
    const result = await v.safeParseAsync(schema, body);
    hook(result);
    c.req.addValidatedData("json", result.output as object);
    await next();
  }) as typeof validator;
  // The OpenAPI document reads the request schema from here: what is validated is what is documented.
  return markValidator(target === "json" ? json : validator, target, schema);
}

const isJsonObject = (value: unknown) => value !== null && typeof value === "object" && !Array.isArray(value);
