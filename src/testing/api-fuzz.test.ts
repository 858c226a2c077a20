/**
 * The fuzz test of issue 13: >= 1,000 generated and mutated bodies per JSON endpoint of the gateway, the
 * control-plane and the Worker API (real apps on a real test database, in-process), plus malformed paths and query
 * strings. No answer may be a 5xx; every error is problem+json; each server still works afterwards. Seeded.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type fc from "fast-check";
import type { AnyRoute } from "../contracts/route";
import { CONTROL_PLANE_API, USER_API, WORKER_API } from "../contracts/routes";
import type { RunJobRequest, RunJobResponse } from "../contracts/worker-api";
import { memoryLogger } from "../lib/log";
import { completedRun } from "./completed-run";
import { createLoginLimiter } from "../orchestrator/auth/login-limiter";
import { hashPassword } from "../orchestrator/auth/passwords";
import { createSecretBox, keyFromPassphrase } from "../orchestrator/auth/secret-box";
import { createTokens } from "../orchestrator/auth/tokens";
import { createControlPlane } from "../orchestrator/control-plane/app";
import { createSession } from "../orchestrator/db/sessions";
import { createUserWithPassword } from "../orchestrator/db/users";
import { createGateway } from "../orchestrator/gateway/app";
import { createWorkerApi } from "../worker-node/worker-api/app";
import { fuzz, newCounter, payloads, requestLines } from "./api-fuzz";
import { createTestDatabase, type TestDatabase } from "./test-db";

const SEED = 13;
const RUNS = 1000;
const PSK = "fuzz-psk";
const WORKER_TOKEN = "fuzz-worker-token";
const READY = async () => ({ ready: true }) as const;

const counter = newCounter();
const log = memoryLogger("fuzz");
const tokens = createTokens({
  secret: "fuzz-secret-0123456789-0123456789",
  ttl: { accessMs: 900_000, refreshMs: 86_400_000, nodeMs: 86_400_000 },
});
let t: TestDatabase;
let gateway: ReturnType<typeof createGateway>;
let controlPlane: ReturnType<typeof createControlPlane>;
let userToken: string;
let aliceId: string;
let nodeJwt: string;

/** The sandbox runner is the only stand-in: this test is about the Worker API's input handling, not podman. */
const echoRunner = {
  run: async (req: RunJobRequest): Promise<RunJobResponse> => completedRun(req),
  cancel: async () => false,
};
const worker = createWorkerApi({
  runner: echoRunner,
  bearerToken: () => WORKER_TOKEN,
  notReadyReason: () => null,
  log,
});

const report = (slug: string) => ({
  version: 1,
  reported_at: "2026-02-16T12:00:00Z",
  node: { node_slug: slug, name: "n", labels: ["a"] },
  platform: { os: "linux", arch: "amd64" },
  compute: { cpu_cores: 2, ram_mb: 1024 },
  sandbox: { supported: true, features: ["netns"], max_concurrency: 2 },
  inference: { supported: true, available_models: ["m"] },
  worker_api: { base_url: "http://fuzz-node:12090" },
});

type App = { request(path: string, init?: RequestInit): Response | Promise<Response> };
const postRaw =
  (app: App, path: string, token?: string) =>
  (body: string, contentType: string | undefined = "application/json") =>
    app.request(path, {
      method: "POST",
      headers: {
        ...(contentType ? { "content-type": contentType } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body,
    });

beforeAll(async () => {
  t = await createTestDatabase();
  aliceId = (await createUserWithPassword(t.db, { handle: "alice", passwordHash: await hashPassword("pw") })).id;
  gateway = createGateway({
    db: t.db,
    tokens,
    log,
    // Production-like limits: valid-looking logins are throttled after a few, so argon2 does not dominate the run.
    limiter: createLoginLimiter({ perMinute: 3, maxFailures: 5, lockoutMs: 900_000 }),
    readiness: READY,
    jobDefaults: { sandboxImage: "localhost/cynode-sandbox:latest", inferenceModel: "m" },
  });
  controlPlane = createControlPlane({
    db: t.db,
    tokens,
    secrets: createSecretBox(keyFromPassphrase("fuzz")),
    log,
    registrationPsk: PSK,
    publicUrl: "http://orch.test:12082/",
    inferenceModel: "",
    readiness: READY,
  });
  const login = await gateway.request(USER_API.login.path(), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ handle: "alice", password: "pw" }),
  });
  userToken = ((await login.json()) as { access_token: string }).access_token;
  const reg = await postRaw(
    controlPlane,
    CONTROL_PLANE_API.register.path(),
  )(JSON.stringify({ psk: PSK, capability: report("fuzz-node") }));
  nodeJwt = ((await reg.json()) as { auth: { node_jwt: string } }).auth.node_jwt;
});

afterAll(async () => {
  console.log(
    `fuzz: ${counter.sent} requests, statuses ${JSON.stringify(Object.fromEntries([...counter.byStatus].sort()))}`,
  );
  await t.drop();
});

/** A new session of alice's, straight in the database: each logout ends the session of the token it carries. */
async function freshSession(): Promise<string> {
  const familyId = crypto.randomUUID();
  const refresh = await tokens.issueRefresh({ id: aliceId }, familyId);
  await createSession(t.db, { userId: aliceId, familyId, token: refresh.token, expiresAt: refresh.expiresAt });
  return (await tokens.issueAccess({ id: aliceId, handle: "alice" }, familyId)).token;
}

type Endpoint = { name: string; app: () => App; path: string; token?: () => string | Promise<string>; seed: unknown };

/** A control-plane route called with the node's JWT. */
const asNode = (name: string, route: AnyRoute, seed: unknown): Endpoint => ({
  name,
  app: () => controlPlane,
  path: route.path(),
  token: () => nodeJwt,
  seed,
});

const endpoints: Endpoint[] = [
  {
    name: "gateway login",
    app: () => gateway,
    path: USER_API.login.path(),
    seed: { handle: "alice", password: "wrong" },
  },
  { name: "gateway refresh", app: () => gateway, path: USER_API.refresh.path(), seed: { refresh_token: "x.y.z" } },
  {
    name: "gateway logout",
    app: () => gateway,
    path: USER_API.logout.path(),
    token: freshSession,
    seed: { refresh_token: "x.y.z" },
  },
  {
    name: "gateway task create",
    app: () => gateway,
    path: USER_API.createTask.path(),
    token: () => userToken,
    seed: {
      prompt: "echo hi",
      input_mode: "commands",
      task_name: "fuzz",
      project_id: "00000000-0000-4000-8000-000000000000",
      attachments: ["a.txt"],
      use_inference: false,
    },
  },
  {
    name: "control-plane register",
    app: () => controlPlane,
    path: CONTROL_PLANE_API.register.path(),
    seed: { psk: PSK, capability: report("fuzz-node") },
  },
  asNode("control-plane config ack", CONTROL_PLANE_API.configAck, {
    version: 1,
    node_slug: "fuzz-node",
    config_version: "01J0000000000000000000000A",
    ack_at: "2026-02-16T12:00:00Z",
    status: "failed",
    error: { type: "t", message: "m", details: { k: "v" } },
  }),
  asNode("control-plane capability", CONTROL_PLANE_API.capability, report("fuzz-node")),
  {
    name: "worker jobs:run",
    app: () => worker,
    path: WORKER_API.runJob.path(),
    token: () => WORKER_TOKEN,
    seed: {
      version: 1,
      task_id: "t1",
      job_id: "j1",
      sandbox: {
        image: "i",
        command: ["sh", "-c", "true"],
        env: { A: "b" },
        timeout_seconds: 5,
        network_policy: "none",
      },
    },
  },
];

/** Runs `fuzzing`, then asserts that no server logged an error meanwhile. */
async function withoutErrorLines(fuzzing: () => Promise<void>): Promise<void> {
  const from = log.lines.length;
  await fuzzing();
  expect(log.lines.slice(from).filter((l) => l.level === "error")).toEqual([]);
}

describe("fuzzed JSON bodies", () => {
  endpoints.forEach((e, i) =>
    it(`${e.name}: ${RUNS} bodies, no 5xx, every error problem+json`, async () => {
      await withoutErrorLines(() =>
        fuzz(
          counter,
          payloads(e.seed),
          async (p) => postRaw(e.app(), e.path, await e.token?.())(p.body, p.contentType),
          {
            seed: SEED + i,
            runs: RUNS,
          },
        ),
      );
    }),
  );
});

const authed = (app: App, token: string) => (line: { method: string; path: string }) =>
  app.request(line.path, { method: line.method, headers: { authorization: `Bearer ${token}` } });

describe("malformed paths and query strings", () => {
  const cases: [string, () => App, () => string, string[]][] = [
    [
      "gateway",
      () => gateway,
      () => userToken,
      ["/v1/tasks/{}", "/v1/tasks/{}/{}", "/v1/tasks{}", "/v1/users/{}/revoke_sessions", "/v1/{}", "/{}", "/healthz{}"],
    ],
    ["control-plane", () => controlPlane, () => nodeJwt, ["/v1/nodes/{}", "/v1/nodes/config{}", "/{}/{}", "/readyz{}"]],
    [
      "worker API",
      () => worker,
      () => WORKER_TOKEN,
      ["/v1/worker/jobs/{}", "/v1/worker/jobs/{}:cancel", "/v1/worker/{}", "/{}"],
    ],
  ];
  cases.forEach(([name, app, token, templates], i) =>
    it(`${name}: ${RUNS} requests, no 5xx, every error problem+json`, async () => {
      const arb: fc.Arbitrary<{ method: string; path: string }> = requestLines(templates);
      await withoutErrorLines(() =>
        fuzz(counter, arb, (line) => authed(app(), token())(line), { seed: SEED * 7 + i, runs: RUNS }),
      );
    }),
  );
});

describe("after the fuzz", () => {
  it("every server is healthy and still serves a valid request", async () => {
    for (const app of [gateway, controlPlane, worker]) expect((await app.request("/healthz")).status).toBe(200);
    const task = await postRaw(gateway, USER_API.createTask.path(), userToken)(JSON.stringify({ prompt: "echo ok" }));
    expect(task.status).toBe(201);
    const reg = await postRaw(
      controlPlane,
      CONTROL_PLANE_API.register.path(),
    )(JSON.stringify({ psk: PSK, capability: report("after") }));
    expect(reg.status).toBe(201);
    const job = await postRaw(
      worker,
      WORKER_API.runJob.path(),
      WORKER_TOKEN,
    )(JSON.stringify({ version: 1, task_id: "t", job_id: "j", sandbox: { command: ["true"] } }));
    expect(job.status).toBe(200);
  });
});
