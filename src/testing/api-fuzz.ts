/**
 * Seeded request fuzzing for the HTTP APIs (issue 13): bodies generated from nothing or mutated from a valid one,
 * malformed paths and query strings, each sent to an app in-process and checked for the one promise: never a 5xx,
 * and every error a problem+json.
 */
import fc from "fast-check";
import * as v from "valibot";
import { PROBLEM_CONTENT_TYPE, ProblemSchema } from "../contracts/problem";

/** Values that broke servers before, or sit on a bound: storable rule, dates, sizes, numbers, nesting. */
const NASTY: unknown[] = [
  "\u0000",
  "a\u0000b",
  "\ud800",
  "x\udc00",
  "",
  " ",
  "😀",
  "x".repeat(70_000),
  "-271821-04-20T00:00:00Z",
  "+275760-09-13T00:00:00Z",
  "0000-01-01T00:00:00Z",
  "2026-02-16T12:00:00Z",
  "00000000-0000-0000-0000-000000000000",
  "../../etc/passwd",
  "%00",
  -1,
  0,
  2 ** 31,
  2 ** 63,
  1e308,
  -1e308,
  0.5,
  true,
  null,
  [],
  {},
  Array.from({ length: 10_000 }, (_, i) => `f${i}`),
  Array.from({ length: 10_000 }, () => 1),
  JSON.parse(`${"[".repeat(5_000)}${"]".repeat(5_000)}`),
];

const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
);

type Json = unknown;
type Path = (string | number)[];

/** Paths to values inside `doc`, the root included; huge or deep values count by their first few items only. */
function pathsOf(doc: Json, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (at.length >= 6 || !doc || typeof doc !== "object") return out;
  const entries = Array.isArray(doc) ? doc.slice(0, 8).map((item, i) => [i, item] as const) : Object.entries(doc);
  for (const [k, item] of entries) out.push(...pathsOf(item, [...at, k]));
  return out;
}

/** A copy of `doc` with the value at `path` replaced (or, when `value` is undefined, removed). */
function setAt(doc: Json, path: Path, value: unknown): Json {
  if (!path.length) return value;
  const [head, ...rest] = path;
  const remove = !rest.length && value === undefined;
  if (Array.isArray(doc)) {
    const copy = [...doc];
    const i = head as number;
    if (remove) copy.splice(i, 1);
    else copy[i] = setAt(copy[i], rest, value);
    return copy;
  }
  const copy: Record<string, unknown> = { ...(doc as object) };
  const key = String(head);
  if (remove) delete copy[key];
  else copy[key] = setAt(copy[key], rest, value);
  return copy;
}

const MUTATIONS = ["set", "delete", "add", "text"] as const;

/** A raw body: one to three structural mutations of `seed`, or one character-level edit of its JSON text. */
function mutated(seed: Json): fc.Arbitrary<string> {
  const step = fc.tuple(fc.constantFrom(...MUTATIONS), fc.nat(), anyValue, fc.string({ maxLength: 8 }));
  return fc.array(step, { minLength: 1, maxLength: 3 }).map((steps) => {
    let doc = seed;
    for (const [kind, n, value, key] of steps) {
      const paths = pathsOf(doc);
      const path = paths[n % paths.length]!;
      if (kind === "set") doc = setAt(doc, path, value);
      else if (kind === "delete" && path.length) doc = setAt(doc, path, undefined);
      else if (kind === "add" && doc && typeof doc === "object" && !Array.isArray(doc)) doc = { ...doc, [key]: value };
      else if (kind === "text") {
        const text = JSON.stringify(doc) ?? "";
        const at = n % (text.length + 1);
        return text.slice(0, at) + key + text.slice(at + (n % 3));
      }
    }
    return JSON.stringify(doc) ?? "";
  });
}

/** Raw bodies for an endpoint whose valid body is `seed`: mutated mostly, generated from nothing sometimes. */
export function bodies(seed: Json): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: mutated(seed) },
    { weight: 2, arbitrary: anyValue.map((x) => JSON.stringify(x) ?? "") },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 64 }) },
  );
}

/** A raw body with the content type it is sent under: JSON mostly, sometimes a wrong or missing type. */
export function payloads(seed: Json): fc.Arbitrary<{ body: string; contentType?: string }> {
  const contentType = fc.oneof(
    { weight: 8, arbitrary: fc.constant("application/json") },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        undefined,
        "text/plain",
        "application/json; charset=utf-16",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
      ),
    },
  );
  return fc.record({ body: bodies(seed), contentType });
}

/** One path segment: ordinary text, percent escapes (well-formed, overlong, NUL, surrogate) or raw junk. */
const segment = fc.oneof(
  fc.string({ maxLength: 16 }).map(encodeURIComponent),
  fc.constantFrom(
    "%00",
    "%ZZ",
    "%",
    "%ED%A0%80",
    "%C0%80",
    "%FF",
    "..",
    ".",
    "%2F",
    "%2e%2e",
    "a%00b",
    "x".repeat(3000),
  ),
  fc.stringMatching(/^[%0-9A-Za-z._~:-]{0,12}$/),
);

const queryString = fc
  .array(fc.tuple(segment, segment), { maxLength: 4 })
  .map((pairs) => (pairs.length ? `?${pairs.map(([k, val]) => `${k}=${val}`).join("&")}` : ""));

/** Paths from templates (`{}` is a segment), with a malformed query string, and a method. */
export function requestLines(templates: string[]): fc.Arbitrary<{ method: string; path: string }> {
  return fc
    .tuple(
      fc.constantFrom(...templates),
      fc.array(segment, { minLength: 1, maxLength: 3 }),
      queryString,
      fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH"),
    )
    .map(([template, segs, query, method]) => {
      let i = 0;
      return { method, path: template.replace(/\{\}/g, () => segs[i++ % segs.length]!) + query };
    });
}

/** What every answer must be: no 5xx, and a problem+json body for any error. Returns the failure, if any. */
export async function brokenPromise(res: Response): Promise<string | undefined> {
  if (res.status >= 500) return `status ${res.status}: ${await res.text()}`;
  if (res.status < 400) return undefined;
  if (!res.headers.get("content-type")?.startsWith(PROBLEM_CONTENT_TYPE))
    return `status ${res.status} with content-type ${res.headers.get("content-type")}`;
  const body: unknown = await res.json().catch(() => undefined);
  return v.is(ProblemSchema, body) && body.status === res.status ? undefined : `bad problem body for ${res.status}`;
}

export type FuzzCounter = { sent: number; byStatus: Map<number, number> };

export const newCounter = (): FuzzCounter => ({ sent: 0, byStatus: new Map() });

/** Sends `runs` requests built by `send` from values of `arb` (seeded), asserting the promise on each (and that all
 * `runs` were sent). */
export async function fuzz<T>(
  counter: FuzzCounter,
  arb: fc.Arbitrary<T>,
  send: (value: T) => Response | Promise<Response>,
  opts: { seed: number; runs: number },
): Promise<void> {
  const before = counter.sent;
  await fc.assert(
    fc.asyncProperty(arb, async (value) => {
      const res = await send(value);
      counter.sent++;
      counter.byStatus.set(res.status, (counter.byStatus.get(res.status) ?? 0) + 1);
      const broken = await brokenPromise(res);
      if (broken) throw new Error(broken);
    }),
    { seed: opts.seed, numRuns: opts.runs, endOnFailure: true },
  );
  if (counter.sent - before !== opts.runs) throw new Error(`sent ${counter.sent - before} of ${opts.runs} requests`);
}
