/**
 * Typed client for the user gateway: paths from USER_API, bodies and answers checked with the same valibot schemas
 * the gateway uses. Failures become CliErrors with the exit codes of reference-contracts 7.3.
 */
import * as v from "valibot";
import * as openai from "../contracts/openai";
import { ProblemSchema } from "../contracts/problem";
import { HEALTH, USER_API } from "../contracts/routes";
import * as api from "../contracts/user-api";
import { CliError, EXIT, exitCodeForStatus, statusMessage } from "./errors";

export const DEFAULT_TIMEOUT_MS = 30_000;
/** Task creation may wait on the gateway's own model call (up to 120 s there), so it gets longer. */
export const CREATE_TIMEOUT_MS = 300_000;

export type ClientOptions = {
  baseUrl: string;
  fetch: typeof fetch;
  userAgent: string;
  timeoutMs?: number;
  token?: string;
  /** When set, a 401 on an authenticated call refreshes once with this token and retries. */
  refreshToken?: string;
  onRefreshed?: (tokens: api.LoginResponse) => Promise<void>;
};

type Call<S extends v.GenericSchema | undefined> = {
  method?: "GET" | "POST";
  path: string;
  schema: S;
  body?: unknown;
  auth?: boolean;
  /** Do not refresh on 401 (logout: refreshing would rotate away the token being revoked). */
  noRefresh?: boolean;
  timeoutMs?: number;
  /** Ends the request early (Ctrl+C during a long-poll or a streamed chat); the caller sees the abort error itself. */
  signal?: AbortSignal;
};
type Answer<S> = S extends v.GenericSchema ? v.InferOutput<S> : undefined;

async function problemDetail(res: Response): Promise<string | undefined> {
  const text = await res.text().catch(() => "");
  try {
    const body = JSON.parse(text);
    const problem = v.safeParse(ProblemSchema, body);
    if (problem.success) return problem.output.detail;
    // The OpenAI-compatible routes answer in OpenAI's error shape.
    const error = v.safeParse(openai.OpenAIError, body);
    return error.success ? error.output.error.message : undefined;
  } catch {
    return undefined;
  }
}

export function createGatewayClient(opts: ClientOptions) {
  const base = opts.baseUrl.replace(/\/+$/, "");
  let token = opts.token;
  let refreshToken = opts.refreshToken;

  async function fetchOnce(call: Call<v.GenericSchema | undefined>): Promise<Response> {
    const headers: Record<string, string> = { "user-agent": opts.userAgent, accept: "application/json" };
    if (call.auth && token) headers.authorization = `Bearer ${token}`;
    if (call.body !== undefined) headers["content-type"] = "application/json";
    const ms = call.timeoutMs ?? opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timeout = AbortSignal.timeout(ms);
    try {
      return await opts.fetch(`${base}${call.path}`, {
        method: call.method ?? "GET",
        headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal: call.signal ? AbortSignal.any([timeout, call.signal]) : timeout,
      });
    } catch (err) {
      if (call.signal?.aborted) throw err;
      if (timeout.aborted) throw new CliError(EXIT.gateway, `gateway request timed out after ${ms / 1000}s`);
      throw new CliError(EXIT.gateway, `gateway unreachable: ${(err as Error).message}`);
    }
  }

  async function refreshOnce(): Promise<boolean> {
    if (!refreshToken || !opts.onRefreshed) return false;
    const res = await fetchOnce({
      method: "POST",
      path: USER_API.refresh,
      schema: undefined,
      body: { refresh_token: refreshToken },
    });
    if (!res.ok) return false;
    const tokens = await decode(res, api.LoginResponse);
    [token, refreshToken] = [tokens.access_token, tokens.refresh_token];
    await opts.onRefreshed(tokens);
    return true;
  }

  async function decode<S extends v.GenericSchema>(res: Response, schema: S): Promise<v.InferOutput<S>> {
    const text = await res.text();
    let parsed: v.SafeParseResult<S>;
    try {
      parsed = v.safeParse(schema, JSON.parse(text));
    } catch {
      throw new CliError(EXIT.gateway, `unexpected response from gateway: not JSON (${res.status})`);
    }
    if (!parsed.success)
      throw new CliError(
        EXIT.gateway,
        `unexpected response from gateway: ${v.summarize(parsed.issues).split("\n")[0]}`,
      );
    return parsed.output;
  }

  /** The answer of a successful call, unread (streams); a failure becomes its CliError. */
  async function open(call: Call<v.GenericSchema | undefined>): Promise<Response> {
    let res = await fetchOnce(call);
    if (res.status === 401 && call.auth && !call.noRefresh && (await refreshOnce())) res = await fetchOnce(call);
    if (!res.ok) throw new CliError(exitCodeForStatus(res.status), statusMessage(res.status, await problemDetail(res)));
    return res;
  }

  async function send<S extends v.GenericSchema | undefined>(call: Call<S>): Promise<Answer<S>> {
    const res = await open(call);
    return (call.schema ? await decode(res, call.schema) : undefined) as Answer<S>;
  }

  return {
    /** `GET /healthz`: true when the gateway answers 200 with a body containing `ok`. */
    async healthy(): Promise<{ ok: boolean; detail: string }> {
      const res = await fetchOnce({ path: HEALTH.healthz, schema: undefined });
      const body = (await res.text()).trim();
      return {
        ok: res.status === 200 && body.includes("ok"),
        detail: res.status === 200 ? body : statusMessage(res.status),
      };
    },
    login: (body: api.LoginRequest) => send({ method: "POST", path: USER_API.login, schema: api.LoginResponse, body }),
    refresh: (refresh_token: string) =>
      send({ method: "POST", path: USER_API.refresh, schema: api.LoginResponse, body: { refresh_token } }),
    /** Ends the token's session at the gateway (and the refresh token's, when given). */
    logout: (refresh_token?: string) =>
      send({
        method: "POST",
        path: USER_API.logout,
        schema: undefined,
        body: refresh_token ? { refresh_token } : {},
        auth: true,
        noRefresh: true,
        timeoutMs: 5_000,
      }),
    me: () => send({ path: USER_API.me, schema: api.UserResponse, auth: true }),
    createTask: (body: api.CreateTaskRequest) =>
      send({
        method: "POST",
        path: USER_API.tasks,
        schema: api.TaskResponse,
        body,
        auth: true,
        timeoutMs: CREATE_TIMEOUT_MS,
      }),
    listTasks: (query: v.InferOutput<typeof api.ListTasksQuery>) => {
      const qs = new URLSearchParams(
        Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined),
      ).toString();
      return send({ path: `${USER_API.tasks}${qs ? `?${qs}` : ""}`, schema: api.ListTasksResponse, auth: true });
    },
    getTask: (id: string) => send({ path: USER_API.task(id), schema: api.TaskResponse, auth: true }),
    /** With `waitS`, a long-poll: the gateway answers when the task ends or after `waitS` seconds (older ones at once). */
    taskResult: (id: string, waitS = 0, signal?: AbortSignal) =>
      send({
        path: waitS ? `${USER_API.taskResult(id)}?wait=${waitS}` : USER_API.taskResult(id),
        schema: api.TaskResultResponse,
        auth: true,
        timeoutMs: waitS * 1000 + (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
        signal,
      }),
    cancelTask: (id: string) =>
      send({ method: "POST", path: USER_API.taskCancel(id), schema: api.CancelTaskResponse, auth: true }),
    taskLogs: (id: string, stream: string) =>
      send({
        path: `${USER_API.taskLogs(id)}?${new URLSearchParams({ stream })}`,
        schema: api.TaskLogsResponse,
        auth: true,
      }),
    listModels: () => send({ path: openai.OPENAI_API.models, schema: openai.ModelList, auth: true }),
    /** A chat completion; with `stream: true`, the open SSE response (read it with `chatDeltas`). */
    chat: (body: openai.ChatCompletionRequest, signal?: AbortSignal) =>
      open({
        method: "POST",
        path: openai.OPENAI_API.chatCompletions,
        schema: undefined,
        body,
        auth: true,
        timeoutMs: CREATE_TIMEOUT_MS,
        signal,
      }),
    decodeCompletion: (res: Response) => decode(res, openai.ChatCompletion),
  };
}

export type GatewayClient = ReturnType<typeof createGatewayClient>;
