/**
 * One declaration per HTTP route: the server mounts its `pattern` (hono syntax), the client builds its URL with
 * `path(params)`, and both read the schemas it carries. Params are typed from the pattern: `/v1/tasks/:id` takes
 * `{ id }`; a `:` inside a segment (`/v1/worker/jobs:run`) is literal, as in hono.
 */
import type { GenericSchema, InferOutput } from "valibot";

export type Method = "GET" | "POST" | "PUT" | "DELETE";

/** Every HTTP API's bound on a request body unless configured lower (the sidecar's, the node's Worker API's). */
export const MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024;

type Segments<P extends string> = P extends `${infer Head}/${infer Rest}` ? Head | Segments<Rest> : P;
type ParamOf<S extends string> = S extends `:${infer Name}` ? Name : never;
/** The names of a pattern's `:name` segments. */
export type ParamName<P extends string> = ParamOf<Segments<P>>;
export type Params<P extends string> = Record<ParamName<P>, string>;

/** What a route carries besides its method and pattern; each part is read by both the server and the client. */
export type RouteSchemas = {
  /** Needs `Authorization: Bearer …` (which token is the API's own). */
  auth?: boolean;
  body?: GenericSchema;
  query?: GenericSchema;
  /** The JSON body of a success; absent when the answer has none or is not JSON. */
  response?: GenericSchema;
  /** The status of a success when it is not 200. */
  status?: 201 | 204;
};

export type Route<M extends Method = Method, P extends string = string, S extends RouteSchemas = RouteSchemas> = S & {
  method: M;
  pattern: P;
  path: (...params: [ParamName<P>] extends [never] ? [] : [Params<P>]) => string;
};

/** Any declared route, whatever its params: for code that reads routes as data (the OpenAPI document, tests). */
// biome-ignore lint/suspicious/noExplicitAny: a route's `path` takes its own params; this type accepts every one.
export type AnyRoute = RouteSchemas & { method: Method; pattern: string; path: (...params: any[]) => string };

/** `:` may stand in a path segment (RFC 3986 pchar) and the Worker API's `{id}:cancel` needs it literal. */
const segment = (value: string) => encodeURIComponent(value).replace(/%3A/gi, ":");

export function route<M extends Method, P extends string, S extends RouteSchemas = RouteSchemas>(
  method: M,
  pattern: P,
  schemas: S = {} as S,
): Route<M, P, S> {
  const path = (params: Record<string, string> = {}) =>
    pattern.replace(/\/:(\w+)/g, (_, name: string) => {
      const value = params[name];
      if (value === undefined) throw new Error(`${pattern}: no value for :${name}`);
      return `/${segment(value)}`;
    });
  return { ...schemas, method, pattern, path } as Route<M, P, S>;
}

/** A route that needs `Authorization: Bearer …`: `route` with `auth: true`, so no declaration can forget it. */
export function authedRoute<M extends Method, P extends string, S extends Omit<RouteSchemas, "auth"> = {}>(
  method: M,
  pattern: P,
  schemas: S = {} as S,
): Route<M, P, S & { auth: true }> {
  return route(method, pattern, { ...schemas, auth: true as const });
}

/** A `POST` that makes something: the request `body`, and `response` (the thing made) answered 201. */
export function creatingRoute<P extends string, B extends GenericSchema, R extends GenericSchema>(
  pattern: P,
  body: B,
  response: R,
) {
  return authedRoute("POST", pattern, { body, response, status: 201 as const });
}

/** `path` with a query string of the entries that are set (none: no `?`). */
export function withQuery(path: string, query: Record<string, string | number | undefined>): string {
  const set = Object.entries(query).flatMap(([k, v]): [string, string][] => (v === undefined ? [] : [[k, String(v)]]));
  return set.length ? `${path}?${new URLSearchParams(set)}` : path;
}

/** One call of a route by a gateway client (cynork's, the web console's): its params, query, body and headers. */
export type RouteCall<R extends AnyRoute> = {
  route: R;
  params?: Params<R["pattern"]>;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** A multipart body instead of JSON (a task with its attachments); fetch sets its content type. */
  form?: FormData;
  /** More request headers (the chat's project and thread). */
  headers?: Record<string, string>;
  /** Ends the request early; the caller sees the abort error itself. */
  signal?: AbortSignal;
};

/** What a call answers: its route's `response`, checked, or nothing. */
export type RouteAnswer<R> = R extends { response: infer S extends GenericSchema } ? InferOutput<S> : undefined;
