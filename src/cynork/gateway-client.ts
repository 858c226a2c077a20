/**
 * Typed client for the user gateway: each call is a route of USER_API (method, path, token, answer schema), the
 * declaration the gateway mounts. Failures become CliErrors with the exit codes of reference-contracts 7.3.
 */
import * as v from "valibot";
import { errorDetail } from "../contracts/error-detail";
import { withQuery, type AnyRoute, type RouteAnswer, type RouteCall } from "../contracts/route";
import { USER_API } from "../contracts/routes";
import type * as api from "../contracts/user-api";
import type { CreateThreadRequest } from "../contracts/chat-agent";
import type { ChatCompletionRequest } from "../contracts/openai";
import type { LoadSkillRequest, UpdateSkillRequest } from "../contracts/skills";
import { isCertificateError } from "../lib/tls-fetch";
import { basename } from "node:path";
import { FILE_PART, TASK_PART } from "../contracts/task-files";
import { CliError, EXIT, exitCodeForStatus, statusMessage } from "./errors";

export const DEFAULT_TIMEOUT_MS = 30_000;
/** A chat completion waits on the model (the gateway gives up after 120 s), so it gets longer. */
export const CHAT_TIMEOUT_MS = 300_000;
/** Uploading attachments (up to 160 MiB by default) and downloading artifacts get as long. */
export const FILES_TIMEOUT_MS = 300_000;

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

type Call<R extends AnyRoute> = RouteCall<R> & {
  /** Do not refresh on 401 (logout: refreshing would rotate away the token being revoked). */
  noRefresh?: boolean;
  timeoutMs?: number;
};

async function problemDetail(res: Response): Promise<string | undefined> {
  return errorDetail(await res.text().catch(() => ""));
}

/** A successful answer's body checked against `schema`; anything else is the gateway's fault (exit 7). */
async function decode<S extends v.GenericSchema>(res: Response, schema: S): Promise<v.InferOutput<S>> {
  const text = await res.text();
  let parsed: v.SafeParseResult<S>;
  try {
    parsed = v.safeParse(schema, JSON.parse(text));
  } catch {
    throw new CliError(EXIT.gateway, `unexpected response from gateway: not JSON (${res.status})`);
  }
  if (!parsed.success)
    throw new CliError(EXIT.gateway, `unexpected response from gateway: ${v.summarize(parsed.issues).split("\n")[0]}`);
  return parsed.output;
}

/** Calls of USER_API's routes with the session's tokens: one refresh and retry on a 401, failures as CliErrors. */
function createTransport(opts: ClientOptions) {
  const base = opts.baseUrl.replace(/\/+$/, "");
  let token = opts.token;
  let refreshToken = opts.refreshToken;

  async function fetchOnce(call: Call<AnyRoute>): Promise<Response> {
    const headers: Record<string, string> = {
      "user-agent": opts.userAgent,
      accept: "application/json",
      ...call.headers,
    };
    if (call.route.auth && token) headers.authorization = `Bearer ${token}`;
    if (call.body !== undefined) headers["content-type"] = "application/json";
    const ms = call.timeoutMs ?? opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timeout = AbortSignal.timeout(ms);
    try {
      return await opts.fetch(base + withQuery(call.route.path(call.params), call.query ?? {}), {
        method: call.route.method,
        headers,
        body: call.form ?? (call.body === undefined ? undefined : JSON.stringify(call.body)),
        signal: call.signal ? AbortSignal.any([timeout, call.signal]) : timeout,
      });
    } catch (err) {
      if (call.signal?.aborted) throw err;
      if (timeout.aborted) throw new CliError(EXIT.gateway, `gateway request timed out after ${ms / 1000}s`);
      if (isCertificateError(err))
        throw new CliError(
          EXIT.gateway,
          `gateway certificate not trusted (${(err as Error).message}): pass --ca-file or set ca_file in the config`,
        );
      throw new CliError(EXIT.gateway, `gateway unreachable: ${(err as Error).message}`);
    }
  }

  async function refreshOnce(): Promise<boolean> {
    if (!refreshToken || !opts.onRefreshed) return false;
    const res = await fetchOnce({ route: USER_API.refresh, body: { refresh_token: refreshToken } });
    if (!res.ok) return false;
    const tokens = await decode(res, USER_API.refresh.response);
    [token, refreshToken] = [tokens.access_token, tokens.refresh_token];
    await opts.onRefreshed(tokens);
    return true;
  }

  /** The answer of a successful call, unread (streams); a failure becomes its CliError. */
  async function open(call: Call<AnyRoute>): Promise<Response> {
    let res = await fetchOnce(call);
    if (res.status === 401 && call.route.auth && !call.noRefresh && (await refreshOnce())) res = await fetchOnce(call);
    if (!res.ok) throw new CliError(exitCodeForStatus(res.status), statusMessage(res.status, await problemDetail(res)));
    return res;
  }

  async function send<R extends AnyRoute>(call: Call<R>): Promise<RouteAnswer<R>> {
    const res = await open(call);
    return (call.route.response ? await decode(res, call.route.response) : undefined) as RouteAnswer<R>;
  }

  return { fetchOnce, open, send };
}

function taskForm(body: api.CreateTaskRequest, paths: string[]): FormData {
  const form = new FormData();
  form.set(TASK_PART, JSON.stringify(body));
  for (const path of paths) form.append(FILE_PART, Bun.file(path), basename(path));
  return form;
}

export function createGatewayClient(opts: ClientOptions) {
  const { fetchOnce, open, send } = createTransport(opts);
  return {
    /** `GET /healthz`: true when the gateway answers 200 with a body containing `ok`. */
    async healthy(): Promise<{ ok: boolean; detail: string }> {
      const res = await fetchOnce({ route: USER_API.healthz });
      const body = (await res.text()).trim();
      return {
        ok: res.status === 200 && body.includes("ok"),
        detail: res.status === 200 ? body : statusMessage(res.status),
      };
    },
    login: (body: api.LoginRequest) => send({ route: USER_API.login, body }),
    refresh: (refresh_token: string) => send({ route: USER_API.refresh, body: { refresh_token } }),
    /** Ends the token's session at the gateway (and the refresh token's, when given). */
    logout: (refresh_token?: string) =>
      send({
        route: USER_API.logout,
        body: refresh_token ? { refresh_token } : {},
        noRefresh: true,
        timeoutMs: 5_000,
      }),
    me: () => send({ route: USER_API.me }),
    createUser: (body: api.CreateUserRequest) => send({ route: USER_API.createUser, body }),
    listUsers: () => send({ route: USER_API.listUsers }),
    disableUser: (id: string) => send({ route: USER_API.disableUser, params: { id } }),
    enableUser: (id: string) => send({ route: USER_API.enableUser, params: { id } }),
    resetPassword: (id: string, password: string) =>
      send({ route: USER_API.resetPassword, params: { id }, body: { password } }),
    listNodes: () => send({ route: USER_API.listNodes }),
    resetNode: (slug: string) => send({ route: USER_API.resetNode, params: { slug } }),
    createTask: (body: api.CreateTaskRequest) => send({ route: USER_API.createTask, body }),
    /** The task and its attachments as multipart/form-data: each file under its base name, read as it is sent. */
    createTaskWithFiles: (body: api.CreateTaskRequest, paths: string[]) =>
      send({ route: USER_API.createTask, form: taskForm(body, paths), timeoutMs: FILES_TIMEOUT_MS }),
    taskArtifacts: (id: string) => send({ route: USER_API.taskArtifacts, params: { id } }),
    /** One artifact's open response (its body streams). */
    taskArtifact: (id: string, name: string) =>
      open({ route: USER_API.taskArtifact, params: { id, name }, timeoutMs: FILES_TIMEOUT_MS }),
    listTasks: (query: v.InferOutput<typeof api.ListTasksQuery>) => send({ route: USER_API.listTasks, query }),
    getTask: (id: string) => send({ route: USER_API.task, params: { id } }),
    /** With `waitS`, a long-poll: the gateway answers when the task ends or after `waitS` seconds (older ones at once). */
    taskResult: (id: string, waitS = 0, signal?: AbortSignal) =>
      send({
        route: USER_API.taskResult,
        params: { id },
        // The gateway takes seconds with at most three decimals (whole milliseconds).
        query: { wait: Math.round(waitS * 1000) / 1000 || undefined },
        timeoutMs: waitS * 1000 + (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
        signal,
      }),
    cancelTask: (id: string) => send({ route: USER_API.cancelTask, params: { id } }),
    taskLogs: (id: string, stream: string) => send({ route: USER_API.taskLogs, params: { id }, query: { stream } }),
    listModels: () => send({ route: USER_API.models }),
    /** A chat completion; with `stream: true`, the open SSE response (read it with `chatDeltas`). */
    chat: (body: ChatCompletionRequest, signal?: AbortSignal, headers?: Record<string, string>) =>
      open({ route: USER_API.chatCompletions, body, timeoutMs: CHAT_TIMEOUT_MS, signal, headers }),
    createThread: (body: CreateThreadRequest, headers?: Record<string, string>) =>
      send({ route: USER_API.createThread, body, headers }),
    listSkills: () => send({ route: USER_API.listSkills }),
    getSkill: (id: string) => send({ route: USER_API.skill, params: { id } }),
    loadSkill: (body: LoadSkillRequest) => send({ route: USER_API.loadSkill, body }),
    updateSkill: (id: string, body: UpdateSkillRequest) => send({ route: USER_API.updateSkill, params: { id }, body }),
    deleteSkill: (id: string) => send({ route: USER_API.deleteSkill, params: { id } }),
    decodeCompletion: (res: Response) => decode(res, USER_API.chatCompletions.response),
  };
}

export type GatewayClient = ReturnType<typeof createGatewayClient>;
