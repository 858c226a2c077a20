/**
 * OpenAPI 3.1 generated from the mounted routes themselves (decision 21), never written by hand.
 *
 * HOW TO ADD A ROUTE: declare it in src/contracts/routes.ts, then give it `describeRoute(route, {...})` as its first
 * handler, e.g.
 *   .post(API.x.pattern, describeRoute(API.x, { summary: "…", problems: [400, 401] }), validated("json", API.x.body), …)
 * The route's declaration gives the request body and query (a `validated(...)` middleware of the same route wins:
 * the schema that validates is the schema documented), the success answer (`response` at `status`, default 200)
 * and whether a token is needed. `responses` adds answers: a status mapped to a valibot schema (JSON), to
 * `{ contentType }` for other media types, or to `null` (no content); `problems` lists the problem+json statuses.
 * The document walks `app.routes`: a route mounted without `describeRoute` is missing from it, which
 * src/lib/openapi.test.ts (every mounted route is documented) catches, and one mounted at another method or path
 * than its declaration fails the document.
 */
import { toJsonSchema } from "@valibot/to-json-schema";
import type { Hono, MiddlewareHandler } from "hono";
import type { GenericSchema } from "valibot";
import { PROBLEM_CONTENT_TYPE, PROBLEM_KINDS, ProblemSchema, type ProblemStatus } from "../contracts/problem";
import type { AnyRoute } from "../contracts/route";

type Json = Record<string, unknown>;

export type ResponseDoc = GenericSchema | { contentType: string; description?: string } | null;

export type RouteDoc = {
  summary: string;
  description?: string;
  tags?: string[];
  /** Answers besides (or instead of) the declared success, by status. */
  responses?: Record<number, ResponseDoc>;
  problems?: ProblemStatus[];
  /** Request bodies besides the JSON one (multipart uploads, raw bytes), by media type: their JSON Schema. */
  requestContent?: Record<string, Json>;
};

export type ApiInfo = { title: string; version: string; description?: string; bearer?: string };

const DOC = Symbol("openapi.route");
const VALIDATES = Symbol("openapi.validates");

type Described = { route: AnyRoute; doc: RouteDoc };
type Documented = { [DOC]?: Described; [VALIDATES]?: { target: string; schema: GenericSchema } };

/** A pass-through middleware that carries the route's declaration and documentation. */
export function describeRoute(route: AnyRoute, doc: RouteDoc): MiddlewareHandler {
  const mw: MiddlewareHandler & Documented = (_c, next) => next();
  mw[DOC] = { route, doc };
  return mw;
}

/** Marks a validator middleware with the schema it checks (used by `validated`). */
export function markValidator<M extends MiddlewareHandler>(mw: M, target: string, schema: GenericSchema): M {
  (mw as M & Documented)[VALIDATES] = { target, schema };
  return mw;
}

function jsonSchema(schema: GenericSchema): Json {
  // Transformations (trim, …) have no JSON Schema form; the document keeps the types and the checks it can.
  const { $schema: _, ...rest } = toJsonSchema(schema, { target: "draft-2020-12", errorMode: "ignore" }) as Json;
  return rest;
}

const STATUS_TEXT: Record<number, string> = { 200: "OK", 201: "Created", 204: "No Content", 503: "Not ready" };

function responseObject(status: number, r: ResponseDoc): Json {
  const description = (r && "contentType" in r && r.description) || STATUS_TEXT[status] || String(status);
  if (r === null) return { description };
  if ("contentType" in r) return { description, content: { [r.contentType]: { schema: { type: "string" } } } };
  return { description, content: { "application/json": { schema: jsonSchema(r) } } };
}

function problemObject(status: ProblemStatus): Json {
  const schema = { $ref: "#/components/schemas/Problem" };
  return { description: PROBLEM_KINDS[status].title, content: { [PROBLEM_CONTENT_TYPE]: { schema } } };
}

/** hono `/a/:id{re}` → OpenAPI `/a/{id}` and its path parameters. */
function openApiPath(path: string): { path: string; params: string[] } {
  const params: string[] = [];
  const out = path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, (_, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path: out, params };
}

function queryParameters(schema: GenericSchema): Json[] {
  const s = jsonSchema(schema) as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, prop]) => ({
    name,
    in: "query",
    required: s.required?.includes(name) ?? false,
    schema: prop,
  }));
}

function operation(method: string, honoPath: string, handlers: Documented[]): Json | undefined {
  const described = handlers.find((h) => h[DOC])?.[DOC];
  if (!described) return undefined;
  const { route, doc } = described;
  if (route.method.toLowerCase() !== method || route.pattern !== honoPath)
    throw new Error(`${method} ${honoPath} is mounted with the description of ${route.method} ${route.pattern}`);
  const validators = handlers.flatMap((h) => (h[VALIDATES] ? [h[VALIDATES]] : []));
  const body = validators.find((v) => v.target === "json")?.schema ?? route.body;
  const query = validators.find((v) => v.target === "query")?.schema ?? route.query;
  const declared = { [route.status ?? 200]: route.response ?? null, ...doc.responses };
  const responses: Json = {};
  for (const [status, r] of Object.entries(declared)) responses[status] = responseObject(Number(status), r);
  for (const status of doc.problems ?? []) responses[status] = problemObject(status);
  return {
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    ...(doc.tags ? { tags: doc.tags } : {}),
    ...(route.auth ? { security: [{ bearer: [] }] } : {}),
    ...(query ? { parameters: queryParameters(query) } : {}),
    ...requestBody(method, body, doc.requestContent),
    responses,
  };
}

function requestBody(method: string, body: GenericSchema | undefined, more: Record<string, Json> = {}): Json {
  const content: Json = body && method !== "get" ? { "application/json": { schema: jsonSchema(body) } } : {};
  for (const [type, schema] of Object.entries(more)) content[type] = { schema };
  return Object.keys(content).length ? { requestBody: { required: true, content } } : {};
}

/** hono wraps the handlers of a sub-app that has its own error handler; the original is kept under this key. */
const COMPOSED_HANDLER = "__COMPOSED_HANDLER";
const unwrapped = (h: unknown): Documented =>
  ((h as Record<string, unknown>)[COMPOSED_HANDLER] as Documented | undefined) ?? (h as Documented);

/** The OpenAPI 3.1 document of every documented route mounted on `app`. */
export function openApiDocument(app: Pick<Hono, "routes">, info: ApiInfo): Json {
  const byRoute = new Map<string, Documented[]>();
  for (const r of app.routes) {
    if (r.method === "ALL") continue; // `.use` middleware, not a route
    const key = `${r.method.toLowerCase()} ${r.path}`;
    byRoute.set(key, [...(byRoute.get(key) ?? []), unwrapped(r.handler)]);
  }
  const paths: Record<string, Json> = {};
  for (const [key, handlers] of byRoute) {
    const [method, honoPath] = key.split(" ") as [string, string];
    const op = operation(method, honoPath, handlers);
    if (!op) continue;
    const { path, params } = openApiPath(honoPath);
    const parameters = params.map((name) => ({ name, in: "path", required: true, schema: { type: "string" } }));
    const withParams = parameters.length
      ? { ...op, parameters: [...parameters, ...((op.parameters as []) ?? [])] }
      : op;
    paths[path] = { ...paths[path], [method]: { ...withParams, operationId: `${method}${path}` } };
  }
  return {
    openapi: "3.1.0",
    info: { title: info.title, version: info.version, ...(info.description ? { description: info.description } : {}) },
    paths,
    components: {
      schemas: { Problem: jsonSchema(ProblemSchema) },
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: info.bearer ?? "Bearer token" } },
    },
  };
}
