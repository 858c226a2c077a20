import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { ulid } from "ulid";
import * as v from "valibot";
import { NodeBootstrapPayload, NodeConfigurationPayload } from "../../contracts/node-payloads";
import { CONTROL_PLANE_API } from "../../contracts/routes";
import { PROBLEM_CONTENT_TYPE } from "../../contracts/problem";
import { memoryLogger } from "../../lib/log";
import { createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { createSecretBox, keyFromPassphrase } from "../auth/secret-box";
import { createTokens } from "../auth/tokens";
import { createControlPlane } from "./app";

const PSK = "node-psk-for-tests";
const secrets = createSecretBox(keyFromPassphrase("cp-test"));

const report = (slug: string, extra: Record<string, unknown> = {}) => ({
  version: 1,
  reported_at: "2026-02-16T12:00:00Z",
  node: { node_slug: slug, name: "Test node" },
  platform: { os: "linux", arch: "amd64" },
  compute: { cpu_cores: 4, ram_mb: 4096 },
  sandbox: { supported: true, features: ["netns"], max_concurrency: 2 },
  inference: { supported: true, existing_service: false },
  worker_api: { base_url: ` http://${slug}.test:12090 ` },
  ...extra,
});

let t: TestDatabase;
let app: ReturnType<typeof createControlPlane>;
const log = memoryLogger("control-plane-test");
let clock = new Date("2026-03-01T10:00:00Z");
const tokens = createTokens({
  secret: "control-plane-test-secret-0123456789",
  ttl: { accessMs: 900_000, refreshMs: 86_400_000, nodeMs: 86_400_000 },
  now: () => clock,
});

type Call = { method?: string; body?: unknown; raw?: string; token?: string; headers?: Record<string, string> };
const call = (path: string, o: Call = {}) =>
  app.request(path, {
    method: o.method ?? (o.body !== undefined || o.raw !== undefined ? "POST" : "GET"),
    headers: {
      "content-type": "application/json",
      ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
      ...o.headers,
    },
    body: o.raw ?? (o.body !== undefined ? JSON.stringify(o.body) : undefined),
  });

async function expectProblem(res: Response, status: number, detail: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toContain(PROBLEM_CONTENT_TYPE);
  expect(((await res.json()) as { detail?: string }).detail).toBe(detail);
}

async function register(slug: string, extra: Record<string, unknown> = {}) {
  const res = await call(CONTROL_PLANE_API.register.path(), { body: { psk: PSK, capability: report(slug, extra) } });
  return { res, bootstrap: v.parse(NodeBootstrapPayload, await res.json()) };
}

async function config(jwt: string) {
  const res = await call(CONTROL_PLANE_API.config.path(), { token: jwt });
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, config: v.parse(NodeConfigurationPayload, JSON.parse(text)) };
}

const ack = (jwt: string, slug: string, version: string, status = "applied") =>
  call(CONTROL_PLANE_API.config.path(), {
    token: jwt,
    body: { version: 1, node_slug: slug, config_version: version, ack_at: "2026-03-01T10:00:05Z", status },
  });

const readyz = async () => {
  const res = await call("/readyz");
  return `${res.status} ${await res.text()}`;
};

beforeAll(async () => {
  t = await createTestDatabase();
  app = createControlPlane({
    db: t.db,
    tokens,
    secrets,
    log,
    registrationPsk: PSK,
    publicUrl: "http://orch.test:12082/",
    inferenceModel: "",
    now: () => clock,
  });
});
afterAll(() => t.drop());

describe("node registration → config → ack → ready", () => {
  it("walks a node to dispatchable and keeps /healthz up throughout", async () => {
    expect(await (await call("/healthz")).text()).toBe("ok");
    expect(await readyz()).toStartWith("503 no inference path available");

    const first = await register("node-a");
    expect(first.res.status).toBe(201);
    expect(first.bootstrap.orchestrator.endpoints).toEqual({
      worker_registration_url: "http://orch.test:12082/v1/nodes/register",
      node_report_url: "http://orch.test:12082/v1/nodes/capability",
      node_config_url: "http://orch.test:12082/v1/nodes/config",
    });
    expect(first.bootstrap.auth.expires_at).toBe("2026-03-02T10:00:00Z");
    const jwt = first.bootstrap.auth.node_jwt;

    const { text, config: cfg } = await config(jwt);
    expect(cfg.node_slug).toBe("node-a");
    expect(cfg.orchestrator.endpoints.worker_api_target_url).toBe("http://node-a.test:12090");
    expect(cfg.inference_backend?.enabled).toBe(true);
    expect(cfg.worker_api?.orchestrator_bearer_token?.length).toBeGreaterThan(30);
    expect(text).not.toContain(PSK);
    expect(text).not.toContain(jwt);
    expect(await readyz()).toStartWith("503");

    expect((await ack(jwt, "node-a", cfg.config_version)).status).toBe(204);
    expect(await readyz()).toBe("200 ready");

    // Same content → same version; a second registration is 200 and keeps the node's worker token.
    const again = await register("node-a");
    expect(again.res.status).toBe(200);
    const second = await config(again.bootstrap.auth.node_jwt);
    expect(second.config.config_version).toBe(cfg.config_version);
    expect(second.config.worker_api).toEqual(cfg.worker_api);
  });

  it("gives every node its own worker token, stored encrypted", async () => {
    const a = await config((await register("node-a")).bootstrap.auth.node_jwt);
    const b = await config((await register("node-b")).bootstrap.auth.node_jwt);
    const tokenA = a.config.worker_api!.orchestrator_bearer_token!;
    expect(b.config.worker_api?.orchestrator_bearer_token).not.toBe(tokenA);
    const row = await t.db
      .selectFrom("nodes")
      .select("worker_api_bearer_token")
      .where("node_slug", "=", "node-a")
      .executeTakeFirstOrThrow();
    expect(row.worker_api_bearer_token).not.toContain(tokenA);
    expect(secrets.open(row.worker_api_bearer_token!)).toBe(tokenA);
    expect(JSON.stringify(log.lines)).not.toContain(tokenA);
  });
});

describe("config versions", () => {
  it("mints a newer config_version when a capability change alters the config, and only its ack counts", async () => {
    const slug = "node-c";
    const jwt = (await register(slug)).bootstrap.auth.node_jwt;
    const v1 = (await config(jwt)).config.config_version;
    expect((await ack(jwt, slug, v1)).status).toBe(204);

    clock = new Date(clock.getTime() + 60_000);
    const changed = report(slug, { inference: { supported: true, existing_service: true } });
    expect((await call(CONTROL_PLANE_API.capability.path(), { token: jwt, body: changed })).status).toBe(204);
    const snapshots = await t.db
      .selectFrom("node_capabilities")
      .innerJoin("nodes", "nodes.id", "node_capabilities.node_id")
      .select(["hash"])
      .where("node_slug", "=", slug)
      .execute();
    expect(snapshots.length).toBe(2);
    expect(snapshots[0]!.hash).not.toBe(snapshots[1]!.hash);

    const next = (await config(jwt)).config;
    expect(next.inference_backend?.enabled).toBe(false);
    expect(next.config_version > v1).toBe(true);

    const dispatchable = async () =>
      await t.db
        .selectFrom("nodes")
        .select(["config_version", "config_ack_version"])
        .where("node_slug", "=", slug)
        .executeTakeFirstOrThrow();
    expect((await ack(jwt, slug, v1)).status).toBe(204);
    expect(await dispatchable()).toEqual({ config_version: next.config_version, config_ack_version: v1 });
    expect((await ack(jwt, slug, next.config_version)).status).toBe(204);
    expect((await dispatchable()).config_ack_version).toBe(next.config_version);
  });

  it("keeps config versions monotonic even when the clock goes back", async () => {
    const { nextConfigVersion } = await import("./node-config");
    const later = ulid(Date.parse("2030-01-01T00:00:00Z"));
    expect(nextConfigVersion(later, new Date("2026-01-01T00:00:00Z")) > later).toBe(true);
  });
});

describe("bad input on the control-plane", () => {
  it("rejects a wrong PSK with 401 and never logs the PSK", async () => {
    const res = await call(CONTROL_PLANE_API.register.path(), {
      body: { psk: "guess-psk-value", capability: report("intruder") },
    });
    await expectProblem(res, 401, "Invalid registration PSK");
    const line = log.lines.find((l) => l.msg === "node registration rejected: invalid PSK");
    expect(line?.node_slug).toBe("intruder");
    expect(JSON.stringify(log.lines)).not.toContain("guess-psk-value");
    expect(JSON.stringify(log.lines)).not.toContain(PSK);
  });

  it("rejects bad JSON, wrong versions and an empty slug with 400", async () => {
    await expectProblem(
      await call(CONTROL_PLANE_API.register.path(), { raw: "{not json" }),
      400,
      "Invalid request body",
    );
    await expectProblem(await call(CONTROL_PLANE_API.register.path(), { raw: "[1]" }), 400, "Invalid request body");
    await expectProblem(
      await call(CONTROL_PLANE_API.register.path(), { body: { psk: PSK, capability: report("x", { version: 2 }) } }),
      400,
      "Unsupported capability version",
    );
    await expectProblem(
      await call(CONTROL_PLANE_API.register.path(), { body: { psk: PSK, capability: report("") } }),
      400,
      "Node slug is required",
    );
    const res = await call(CONTROL_PLANE_API.register.path(), {
      body: { psk: PSK, capability: report("x", { compute: { cpu_cores: "four", ram_mb: 1 } }) },
    });
    await expectProblem(
      res,
      400,
      'Invalid request body: capability.compute.cpu_cores: Invalid type: Expected number but received "four"',
    );

    const jwt = (await register("node-d")).bootstrap.auth.node_jwt;
    await expectProblem(
      await call(CONTROL_PLANE_API.config.path(), { token: jwt, raw: "nope" }),
      400,
      "Invalid request body",
    );
    await expectProblem(await ack(jwt, "node-d", "x", "rolled_back"), 400, "status must be applied or failed");
    await expectProblem(await ack(jwt, "node-other", "x"), 400, "node_slug does not match authenticated node");
    await expectProblem(
      await call(CONTROL_PLANE_API.config.path(), {
        token: jwt,
        body: { version: 2, node_slug: "node-d", config_version: "x", status: "applied" },
      }),
      400,
      "Unsupported config ack version",
    );
    await expectProblem(
      await call(CONTROL_PLANE_API.capability.path(), { token: jwt, body: report("node-d", { version: 3 }) }),
      400,
      "Unsupported capability version",
    );
    await expectProblem(
      await call(CONTROL_PLANE_API.capability.path(), { token: jwt, body: report("node-other") }),
      400,
      "node_slug does not match authenticated node",
    );
    await expectProblem(
      await call(CONTROL_PLANE_API.capability.path(), { token: jwt, raw: "{" }),
      400,
      "Invalid request body",
    );
  });
});

describe("refused tokens, oversize bodies and a database failure on the control-plane", () => {
  it("answers 401 without a token, with a bad token and with a user's access token", async () => {
    await expectProblem(await call(CONTROL_PLANE_API.config.path()), 401, "Missing authorization header");
    await expectProblem(
      await call(CONTROL_PLANE_API.config.path(), { headers: { authorization: "Basic abc" } }),
      401,
      "Invalid or expired token",
    );
    await expectProblem(
      await call(CONTROL_PLANE_API.config.path(), { token: "not.a.jwt" }),
      401,
      "Invalid or expired token",
    );
    const user = await tokens.issueAccess({ id: crypto.randomUUID(), handle: "alice" }, crypto.randomUUID());
    await expectProblem(
      await call(CONTROL_PLANE_API.config.path(), { token: user.token }),
      401,
      "Invalid or expired token",
    );
    await expectProblem(
      await call(CONTROL_PLANE_API.capability.path(), { token: user.token, body: report("x") }),
      401,
      "Invalid or expired token",
    );
  });

  it("answers 404 for a node JWT whose node is unknown", async () => {
    const ghost = await tokens.issueNode({ id: crypto.randomUUID(), slug: "ghost" });
    await expectProblem(await call(CONTROL_PLANE_API.config.path(), { token: ghost.token }), 404, "Node not found");
    await expectProblem(await ack(ghost.token, "ghost", "x"), 404, "Node not found");
    await expectProblem(
      await call(CONTROL_PLANE_API.capability.path(), { token: ghost.token, body: report("ghost") }),
      404,
      "Node not found",
    );
    await expectProblem(await call("/v1/nodes/nothing"), 404, "Not found");
  });

  it("answers 413 for an oversized body", async () => {
    const small = createControlPlane({
      db: t.db,
      tokens,
      secrets,
      log,
      registrationPsk: PSK,
      publicUrl: "http://x",
      maxBodyBytes: 64,
    });
    const res = await small.request(CONTROL_PLANE_API.register.path(), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ psk: PSK, capability: report("big") }),
    });
    expect(res.status).toBe(413);
  });

  it("reports a database failure on /readyz", async () => {
    const broken = await createTestDatabase();
    await broken.drop();
    const cp = createControlPlane({ db: broken.db, tokens, secrets, log, registrationPsk: PSK, publicUrl: "http://x" });
    const res = await cp.request("/readyz");
    expect(`${res.status} ${await res.text()}`).toBe("503 readiness check failed (database error)");
  });
});
