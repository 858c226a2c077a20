/**
 * The storable-input rule (decision 17) on the HTTP side: path segments, query parameters and parsed bodies with
 * text Postgres cannot store are a 400 naming where, before any handler or query sees them.
 */
import type { MiddlewareHandler } from "hono";
import type { BaseIssue } from "valibot";
import {
  isStorableText,
  isStorageRuleIssue,
  issueField,
  ruleDetail,
  UNSTORABLE,
  unstorableAt,
} from "../contracts/storable";
import { ProblemError } from "./http-problem";

/** Throws the 400 when a parsed body (or any value) holds unstorable text anywhere. */
export function assertStorable(value: unknown): void {
  const at = unstorableAt(value);
  if (at !== undefined) throw new ProblemError(400, ruleDetail(at, UNSTORABLE));
}

/** The 400 for a schema failure: the rule's field and message when a storable-rule issue is among them, else `detail`. */
export function schemaProblem(issues: readonly BaseIssue<unknown>[], detail: string): ProblemError {
  const rule = issues.find(isStorageRuleIssue);
  return new ProblemError(400, rule ? ruleDetail(issueField(rule), rule.message) : detail);
}

const tryDecode = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

/** Decodes as hono does for params: the whole segment, else each run of escapes that decodes on its own. */
const decodeSegment = (segment: string): string =>
  segment.includes("%") ? segment.replace(/(?:%[0-9A-Fa-f]{2})+/g, tryDecode) : segment;

/** Middleware for every app: rejects a path or query string carrying unstorable text. */
export function storablePathAndQuery(): MiddlewareHandler {
  return async (c, next) => {
    const url = new URL(c.req.url);
    if (!url.pathname.split("/").every((s) => isStorableText(decodeSegment(s))))
      throw new ProblemError(400, ruleDetail("path", UNSTORABLE));
    for (const [key, value] of url.searchParams)
      if (!isStorableText(key) || !isStorableText(value))
        throw new ProblemError(400, ruleDetail(`query parameter ${JSON.stringify(key)}`, UNSTORABLE));
    await next();
  };
}
