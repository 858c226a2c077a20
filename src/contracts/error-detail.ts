/** The message of an error answer: problem+json's `detail`, or the OpenAI-compatible routes' `error.message`. */
import * as v from "valibot";
import { OpenAIError } from "./openai";
import { ProblemSchema } from "./problem";

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
  return error.success ? error.output.error.message : undefined;
}
