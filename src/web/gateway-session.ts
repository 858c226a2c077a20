/**
 * The signed-in user's calls to the gateway, through USER_API's routes (the table cynork calls). Tokens live in this
 * closure only (never in storage, a cookie or a URL): the access token is refreshed a minute before it expires (half
 * way through a lifetime shorter than two minutes), and once more on a 401; a refresh that fails ends the session.
 */
import * as v from "valibot";
import { errorDetail } from "../contracts/error-detail";
import { type AnyRoute, type RouteAnswer, type RouteCall, withQuery } from "../contracts/route";
import { USER_API } from "../contracts/routes";
import type { LoginResponse } from "../contracts/user-api";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const REFRESH_AHEAD_S = 60;

async function failure(res: Response): Promise<ApiError> {
  const detail = errorDetail(await res.text().catch(() => ""));
  return new ApiError(res.status, detail ? `${res.status}: ${detail}` : `${res.status} ${res.statusText}`);
}

async function decode<S extends v.GenericSchema>(res: Response, schema: S): Promise<v.InferOutput<S>> {
  const parsed = v.safeParse(schema, await res.json());
  if (!parsed.success) throw new ApiError(res.status, `unexpected answer: ${v.summarize(parsed.issues)}`);
  return parsed.output;
}

export type GatewaySession = ReturnType<typeof createGatewaySession>;

/** `onChange` hears every sign-in and sign-out (a failed refresh too). */
export function createGatewaySession(onChange: (signedIn: boolean) => void) {
  let tokens: LoginResponse | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  function fetchOnce(call: RouteCall<AnyRoute>): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json", ...call.headers };
    if (call.route.auth && tokens) headers.authorization = `Bearer ${tokens.access_token}`;
    if (call.body !== undefined) headers["content-type"] = "application/json";
    return fetch(withQuery(call.route.path(call.params), call.query ?? {}), {
      method: call.route.method,
      headers,
      body: call.form ?? (call.body === undefined ? undefined : JSON.stringify(call.body)),
      signal: call.signal,
      credentials: "omit",
    });
  }

  function signedIn(next: LoginResponse | undefined) {
    clearTimeout(timer);
    tokens = next;
    if (next) timer = setTimeout(refresh, Math.max(next.expires_in / 2, next.expires_in - REFRESH_AHEAD_S) * 1000);
    onChange(next !== undefined);
  }

  async function refresh(): Promise<boolean> {
    if (!tokens) return false;
    const res = await fetchOnce({ route: USER_API.refresh, body: { refresh_token: tokens.refresh_token } }).catch(
      () => undefined,
    );
    signedIn(res?.ok ? await decode(res, USER_API.refresh.response) : undefined);
    return tokens !== undefined;
  }

  /** The answer of a successful call, unread (a stream); any other becomes an ApiError. */
  async function open(call: RouteCall<AnyRoute>): Promise<Response> {
    let res = await fetchOnce(call);
    if (res.status === 401 && call.route.auth && (await refresh())) res = await fetchOnce(call);
    if (!res.ok) throw await failure(res);
    return res;
  }

  async function send<R extends AnyRoute>(call: RouteCall<R>): Promise<RouteAnswer<R>> {
    const res = await open(call);
    return (call.route.response ? await decode(res, call.route.response) : undefined) as RouteAnswer<R>;
  }

  return {
    open,
    send,
    async login(handle: string, password: string): Promise<void> {
      signedIn(await send({ route: USER_API.login, body: { handle, password } }));
    },
    /** Ends the session at the gateway (both tokens), then here, whatever the gateway answered. */
    async logout(): Promise<void> {
      const current = tokens;
      if (current)
        await fetchOnce({ route: USER_API.logout, body: { refresh_token: current.refresh_token } }).catch(() => {});
      signedIn(undefined);
    },
  };
}
