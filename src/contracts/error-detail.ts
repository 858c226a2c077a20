/**
 * The message of an error answer: problem+json's `detail`, the OpenAI-compatible routes' `error.message`, or a skill
 * refused by the content scan (its category and the text that triggered it).
 */
import * as v from "valibot";
import { OpenAIError } from "./openai";
import { ProblemSchema } from "./problem";
import { PolicyViolation } from "./skills";

export function errorDetail(text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  const problem = v.safeParse(ProblemSchema, body);
  if (problem.success) return problem.output.detail;
  const error = v.safeParse(OpenAIError, body);
  if (error.success) return error.output.error.message;
  const policy = v.safeParse(PolicyViolation, body);
  return policy.success ? `policy violation (${policy.output.category}): ${policy.output.triggering_text}` : undefined;
}
