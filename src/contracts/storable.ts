/**
 * Building blocks of every request schema (decision 17): text Postgres can store (no NUL, no unpaired surrogate),
 * bounded strings and arrays, RFC 3339 timestamps inside the years Postgres and JS dates share. A value outside
 * them is a 400 naming the field, never a database error.
 */
import * as v from "valibot";

export const UNSTORABLE = "contains NUL or an unpaired surrogate";
export const TOO_LONG = "is too long";
export const TOO_MANY = "has too many items";
export const BAD_TIMESTAMP = "must be an RFC 3339 timestamp between years 0001 and 9999";

/** Bounds of the building blocks (characters, items); the body limit caps what is left. */
export const LIMITS = {
  name: 256,
  secret: 1024,
  text: 64 * 1024,
  /** Prompts and scripts: anything the body limit lets through. */
  body: 16 * 1024 * 1024,
  items: 1000,
} as const;

// NUL, a high surrogate not followed by a low one, or a low one not preceded by a high one.
const UNSTORABLE_RE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const isStorableText = (s: string): boolean => !UNSTORABLE_RE.test(s);

/** A string Postgres can store, of at most `max` characters. */
export const Text = (max: number = LIMITS.text, message?: string) =>
  v.pipe(v.string(message), v.check(isStorableText, UNSTORABLE), v.maxLength(max, TOO_LONG));

/** An array of at most `max` items. */
export const List = <T extends v.GenericSchema>(item: T, max: number = LIMITS.items) =>
  v.pipe(v.array(item), v.maxLength(max, TOO_MANY));

/** A string map of at most `LIMITS.items` entries. */
export const TextMap = (max: number = LIMITS.body) =>
  v.pipe(v.record(Text(LIMITS.name), Text(max)), v.maxEntries(LIMITS.items, TOO_MANY));

const RFC3339_RE = /^(\d{4})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** `2026-02-16T12:00:00Z` (offset and fraction allowed), year 0001 to 9999 and a real date. */
export const isBoundedTimestamp = (s: string): boolean => {
  const m = RFC3339_RE.exec(s);
  return !!m && Number(m[1]) >= 1 && !Number.isNaN(Date.parse(s));
};

export const Timestamp = v.pipe(v.string(), v.check(isBoundedTimestamp, BAD_TIMESTAMP));

const RULE_MESSAGES = new Set<string>([UNSTORABLE, TOO_LONG, TOO_MANY, BAD_TIMESTAMP]);

/** True when a schema issue comes from one of these blocks, so the answer should name the field. */
export const isStorageRuleIssue = (issue: v.BaseIssue<unknown>): boolean => RULE_MESSAGES.has(issue.message);

/** `attachments.3`, `error.message`: where an issue is, for a problem's detail. */
export const issueField = (issue: v.BaseIssue<unknown>): string => v.getDotPath(issue) ?? "body";

/**
 * The dot path of the first string (key or value) Postgres cannot store inside a parsed JSON value, or undefined.
 * Catches what schemas pass through untyped (loose objects, `unknown` records).
 */
export function unstorableAt(value: unknown): string | undefined {
  // Iterative: a body nested thousands deep must not overflow the stack.
  const stack: [unknown, string][] = [[value, ""]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [item, path] = next;
    if (typeof item === "string") {
      if (!isStorableText(item)) return path || "body";
    } else if (item !== null && typeof item === "object") {
      for (const [key, child] of Object.entries(item).reverse()) {
        const at = path ? `${path}.${key}` : key;
        if (!isStorableText(key)) return at;
        stack.push([child, at]);
      }
    }
  }
  return undefined;
}

/** The 400 detail for a value that breaks a rule at `field`. */
export const ruleDetail = (field: string, message: string): string => `Invalid request: ${field} ${message}`;
