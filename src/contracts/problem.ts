/** RFC 9457 problem details as the reference emits them: one type URN and title per status. */
import * as v from "valibot";

export const ProblemSchema = v.object({
  type: v.string(),
  title: v.string(),
  status: v.number(),
  detail: v.optional(v.string()),
  instance: v.optional(v.string()),
});
export type Problem = v.InferOutput<typeof ProblemSchema>;

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export const PROBLEM_KINDS = {
  400: { type: "urn:cynodeai:error:validation", title: "Bad Request" },
  401: { type: "urn:cynodeai:error:authentication", title: "Unauthorized" },
  403: { type: "urn:cynodeai:error:authorization", title: "Forbidden" },
  404: { type: "urn:cynodeai:error:not_found", title: "Not Found" },
  409: { type: "https://cynode.ai/specs/conflict", title: "Conflict" },
  413: { type: "urn:cynodeai:error:validation", title: "Request Entity Too Large" },
  429: { type: "urn:cynodeai:error:rate_limit", title: "Too Many Requests" },
  500: { type: "urn:cynodeai:error:internal", title: "Internal Server Error" },
  502: { type: "urn:cynodeai:error:upstream", title: "Bad Gateway" },
  503: { type: "urn:cynodeai:error:unavailable", title: "Service Unavailable" },
  504: { type: "urn:cynodeai:error:timeout", title: "Gateway Timeout" },
} as const;
export type ProblemStatus = keyof typeof PROBLEM_KINDS;

/** The body for a status, omitting an empty detail as the reference does; `instance` names one occurrence. */
export function problemBody(status: ProblemStatus, detail?: string, instance?: string): Problem {
  const { type, title } = PROBLEM_KINDS[status];
  return { type, title, status, ...(detail ? { detail } : {}), ...(instance ? { instance } : {}) };
}
