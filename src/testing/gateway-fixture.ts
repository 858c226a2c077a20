/** A real user gateway on a real database, served over real HTTP on a free port, with users ready to log in. */
import { USER_API } from "../contracts/routes";
import { memoryLogger } from "../lib/log";
import { serveApp, type Served } from "../lib/serve";
import { createLoginLimiter, type LoginLimiterOptions } from "../orchestrator/auth/login-limiter";
import { hashPassword } from "../orchestrator/auth/passwords";
import { createTokens } from "../orchestrator/auth/tokens";
import { createUserWithPassword } from "../orchestrator/db/users";
import { createGateway, type GatewayDeps } from "../orchestrator/gateway/app";
import { checkReadiness } from "../orchestrator/readiness";
import { openNotifications } from "../orchestrator/db/notifications";
import { startTaskEndWaiter, type TaskEndWaiter } from "../orchestrator/tasks/task-end-waiter";
import { createTestDatabase, type TestDatabase } from "./test-db";

export const PASSWORD = "correct horse battery staple";
export const JWT_TEST_SECRET = "test-secret-of-sufficient-length-0123456789";

/** Test responses are read loosely: assertions check their shape. */
export type TestResponse = Omit<Response, "json"> & { json(): Promise<any> };

export type GatewayFixture = {
  t: TestDatabase;
  server: Served;
  log: ReturnType<typeof memoryLogger>;
  tokens: ReturnType<typeof createTokens>;
  users: Record<string, string>;
  url(path: string): string;
  call(
    method: string,
    path: string,
    opts?: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> },
  ): Promise<TestResponse>;
  login(handle: string, password?: string, ip?: string): Promise<{ access_token: string; refresh_token: string }>;
  /** With `longPoll`: whether a `?wait=` on this task is subscribed and has read the task unended. */
  waiting(taskId: string): boolean;
  close(): Promise<void>;
};

export async function startGatewayFixture(
  opts: {
    handles?: string[];
    limiter?: Partial<LoginLimiterOptions>;
    deps?: Partial<GatewayDeps>;
    trustProxyHeaders?: boolean;
    /** Serve `?wait=` on task results through LISTEN/NOTIFY, as a started orchestrator does. */
    longPoll?: boolean;
    /** Another fixture's database (a second orchestrator on it): not dropped on close, users not created again. */
    database?: { t: TestDatabase; users: Record<string, string> };
  } = {},
): Promise<GatewayFixture> {
  const t = opts.database?.t ?? (await createTestDatabase());
  const log = memoryLogger("gateway-test");
  const tokens = createTokens({
    secret: JWT_TEST_SECRET,
    ttl: { accessMs: 900_000, refreshMs: 7 * 86_400_000, nodeMs: 86_400_000 },
  });
  const hash = await hashPassword(PASSWORD);
  const users: Record<string, string> = { ...opts.database?.users };
  if (!opts.database)
    for (const handle of opts.handles ?? ["admin", "alice", "bob"])
      users[handle] = (await createUserWithPassword(t.db, { handle, passwordHash: hash })).id;
  const notifications = opts.longPoll ? openNotifications(t.url) : undefined;
  const taskEnds = notifications && observed(await startTaskEndWaiter(notifications));
  const app = createGateway({
    db: t.db,
    tokens,
    log,
    limiter: createLoginLimiter({ perMinute: 1000, maxFailures: 1000, lockoutMs: 60_000, ...opts.limiter }),
    readiness: () => checkReadiness(t.db),
    jobDefaults: { sandboxImage: "localhost/cynode-sandbox:latest", inferenceModel: "test-model" },
    taskEnds: taskEnds?.waiter,
    ...opts.deps,
  });
  // Tests vary the client address through X-Forwarded-For, as behind a trusted proxy, unless told otherwise.
  const server = serveApp(
    app,
    { hostname: "127.0.0.1", port: 0 },
    { trustProxyHeaders: opts.trustProxyHeaders ?? true },
  );
  const url = (path: string) => new URL(path, server.url).href;
  const call: GatewayFixture["call"] = (method, path, o = {}) =>
    fetch(url(path), {
      method,
      headers: {
        ...(o.body !== undefined || o.raw !== undefined ? { "content-type": "application/json" } : {}),
        ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
        ...o.headers,
      },
      body: o.raw ?? (o.body !== undefined ? JSON.stringify(o.body) : undefined),
    });
  return {
    t,
    server,
    log,
    tokens,
    users,
    url,
    call,
    async login(handle, password = PASSWORD, ip = "10.0.0.1") {
      const res = await call("POST", USER_API.login.path(), {
        body: { handle, password },
        headers: { "x-forwarded-for": ip },
      });
      if (res.status !== 200) throw new Error(`login ${handle}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<{ access_token: string; refresh_token: string }>;
    },
    waiting: (taskId) => taskEnds?.waiting.has(taskId) ?? false,
    async close() {
      await taskEnds?.waiter.close();
      await server.stop();
      await notifications?.close();
      if (!opts.database) await t.drop();
    },
  };
}

/** Asserts nothing by itself: returns the problem body and its content type for the caller's expectations. */
export async function problemOf(
  res: TestResponse,
): Promise<{ status: number; contentType: string | null; body: Record<string, unknown> }> {
  return {
    status: res.status,
    contentType: res.headers.get("content-type"),
    body: (await res.json()) as Record<string, unknown>,
  };
}

/** The waiter, noting each task whose wait read it unended after subscribing: from then on only a wake ends it. */
function observed(waiter: TaskEndWaiter) {
  const waiting = new Set<string>();
  const wait: TaskEndWaiter["wait"] = (task, ms, signal, read) =>
    waiter.wait(task, ms, signal, async () => {
      const fresh = await read();
      waiting.add(task.id);
      return fresh;
    });
  return { waiter: { ...waiter, wait }, waiting };
}
