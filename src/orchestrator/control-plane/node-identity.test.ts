import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import { NODE_ERRORS, NODE_PROOF_AUDIENCE, type NodeIdentity } from "../../contracts/node-payloads";
import { PROBLEM_CONTENT_TYPE } from "../../contracts/problem";
import { CONTROL_PLANE_API } from "../../contracts/routes";
import { memoryLogger } from "../../lib/log";
import { createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { testNodeConfig, testNodeContext } from "../../testing/node-config";
import { loadOrCreateNodeKey, nodeIdentityProof, type NodeKey } from "../../worker-node/node-manager/node-identity";
import { orchestratorClient } from "../../worker-node/node-manager/registration";
import { createSecretBox, keyFromPassphrase } from "../auth/secret-box";
import { createTokens } from "../auth/tokens";
import { findNodeBySlug, resetNodeIdentity } from "../db/nodes";
import { createControlPlane } from "./app";

const PSK = "identity-test-psk";
let t: TestDatabase;
let app: ReturnType<typeof createControlPlane>;
let dir: string;
let clock = new Date("2026-03-01T10:00:00Z");
const tokens = createTokens({
  secret: "identity-test-secret-0123456789abcdef",
  ttl: { accessMs: 900_000, refreshMs: 86_400_000, nodeMs: 86_400_000 },
  now: () => clock,
});

const url = (slug: string, host = slug) => `http://${host}.test:12090`;
const report = (slug: string, workerUrl = url(slug)) => ({
  version: 1,
  reported_at: "2026-03-01T10:00:00Z",
  node: { node_slug: slug },
  platform: { os: "linux", arch: "amd64" },
  compute: { cpu_cores: 2, ram_mb: 2048 },
  worker_api: { base_url: workerUrl },
});

const post = (path: string, body: unknown, token?: string) =>
  app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });

const register = (slug: string, node_identity?: NodeIdentity, workerUrl = url(slug)) =>
  post(CONTROL_PLANE_API.register.path(), { psk: PSK, capability: report(slug, workerUrl), node_identity });

const proof = (key: NodeKey, slug: string, workerUrl = url(slug)) =>
  nodeIdentityProof(key, { slug, workerApiUrl: workerUrl, now: clock });

async function expectRefused(res: Response, detail: string) {
  expect(res.status).toBe(403);
  expect(res.headers.get("content-type")).toContain(PROBLEM_CONTENT_TYPE);
  expect(((await res.json()) as { detail: string }).detail).toBe(detail);
}

let keyA: NodeKey;
let keyB: NodeKey;

beforeAll(async () => {
  t = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), "node-identity-"));
  keyA = await loadOrCreateNodeKey(join(dir, "a"));
  keyB = await loadOrCreateNodeKey(join(dir, "b"));
  app = createControlPlane({
    db: t.db,
    tokens,
    secrets: createSecretBox(keyFromPassphrase("identity-test")),
    log: memoryLogger("identity-test"),
    registrationPsk: PSK,
    publicUrl: "http://orch.test:12082",
    inferenceModel: "",
    now: () => clock,
  });
});
afterAll(async () => {
  await t.drop();
  await rm(dir, { recursive: true, force: true });
});

describe("a node's slug is bound to its key at the first registration", () => {
  it("re-admits the right key, refuses another key and a missing proof, and keeps the node as it was", async () => {
    expect((await register("bound", await proof(keyA, "bound"))).status).toBe(201);
    const before = await findNodeBySlug(t.db, "bound");
    expect(before?.key_thumbprint).toBeString();

    const thief = url("bound", "attacker");
    await expectRefused(await register("bound", await proof(keyB, "bound", thief), thief), NODE_ERRORS.identityTaken);
    await expectRefused(await register("bound", undefined, thief), NODE_ERRORS.identityRequired);
    const after = await findNodeBySlug(t.db, "bound");
    expect(after?.worker_api_target_url).toBe(url("bound"));
    expect(after?.worker_api_bearer_token).toBe(before!.worker_api_bearer_token!);
    expect(after?.key_thumbprint).toBe(before!.key_thumbprint!);

    expect((await register("bound", await proof(keyA, "bound"))).status).toBe(200);
  });

  it("refuses a proof that is replayed, expired, for another slug or URL, or not signed by the key sent", async () => {
    expect((await register("strict", await proof(keyA, "strict"))).status).toBe(201);
    const once = await proof(keyA, "strict");
    expect((await register("strict", once)).status).toBe(200);
    await expectRefused(await register("strict", once), NODE_ERRORS.proofReplayed);

    const old = await proof(keyA, "strict");
    clock = new Date(clock.getTime() + 600_000);
    await expectRefused(await register("strict", old), NODE_ERRORS.proofInvalid);
    await expectRefused(await register("strict", await proof(keyA, "other")), NODE_ERRORS.proofInvalid);
    const elsewhere = url("strict", "elsewhere");
    await expectRefused(await register("strict", await proof(keyA, "strict"), elsewhere), NODE_ERRORS.proofInvalid);
    // Signed by B, presenting A's public key.
    const forged = { ...(await proof(keyB, "strict")), public_key: keyA.publicJwk };
    await expectRefused(await register("strict", forged), NODE_ERRORS.proofInvalid);
    // Right key, wrong audience.
    const iat = Math.floor(clock.getTime() / 1000);
    const wrongAud = await new SignJWT({ worker_api_url: url("strict") })
      .setProtectedHeader({ alg: "ES256" })
      .setSubject("strict")
      .setAudience(`${NODE_PROOF_AUDIENCE}-not`)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 60)
      .setJti(crypto.randomUUID())
      .sign(keyA.privateKey);
    await expectRefused(
      await register("strict", { public_key: keyA.publicJwk, proof: wrongAud }),
      NODE_ERRORS.proofInvalid,
    );
    expect((await register("strict", await proof(keyA, "strict"))).status).toBe(200);
  });

  it("two first registrations of one slug at once: one key binds, the other is refused", async () => {
    const [a, b] = await Promise.all([
      register("raced", await proof(keyA, "raced")),
      register("raced", await proof(keyB, "raced")),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 403]);
    const winner = a.status === 201 ? keyA : keyB;
    expect((await register("raced", await proof(winner, "raced"))).status).toBe(200);
  });

  it("binds a node from before identity keys at its first registration with one", async () => {
    expect((await register("legacy")).status).toBe(201);
    expect((await findNodeBySlug(t.db, "legacy"))?.key_thumbprint).toBeNull();
    expect((await register("legacy")).status).toBe(200);
    expect((await register("legacy", await proof(keyB, "legacy"))).status).toBe(200);
    await expectRefused(await register("legacy"), NODE_ERRORS.identityRequired);
  });
});

describe("reset, the node manager's client, and the order of checks", () => {
  it("after a reset the node's token is refused and the next registration binds again", async () => {
    const first = await register("lost", await proof(keyA, "lost"));
    const jwt = ((await first.json()) as { auth: { node_jwt: string } }).auth.node_jwt;
    const reportAs = (token: string) => post(CONTROL_PLANE_API.capability.path(), report("lost"), token);
    expect((await reportAs(jwt)).status).toBe(204);

    await resetNodeIdentity(t.db, "lost", clock);
    expect((await findNodeBySlug(t.db, "lost"))?.status).toBe("inactive");
    expect((await reportAs(jwt)).status).toBe(401);
    const rebound = await register("lost", await proof(keyB, "lost"));
    expect(rebound.status).toBe(200);
    expect((await findNodeBySlug(t.db, "lost"))?.status).toBe("active");
    const newJwt = ((await rebound.json()) as { auth: { node_jwt: string } }).auth.node_jwt;
    expect((await reportAs(newJwt)).status).toBe(204);
    await expectRefused(await register("lost", await proof(keyA, "lost")), NODE_ERRORS.identityTaken);
  });

  it("the node manager's client proves its key at every registration; another key gets the 403's detail", async () => {
    const config = await testNodeConfig({
      env: { ORCHESTRATOR_URL: "http://orch.test:12082", NODE_REGISTRATION_PSK: PSK },
    });
    const ctx = { ...testNodeContext(config), now: () => clock };
    const viaApp = ((input: string, init?: RequestInit) => app.request(input, init)) as typeof fetch;
    const capability = report("managed") as never;
    const real = orchestratorClient(ctx, viaApp, undefined, keyA);
    await real.register(capability);
    await real.register(capability);
    const other = orchestratorClient(ctx, viaApp, undefined, keyB);
    await expect(other.register(capability)).rejects.toThrow(
      `registration failed: HTTP 403 ${NODE_ERRORS.identityTaken}`,
    );
  });

  it("checks the PSK before anything else, and a bad identity is a 400 naming the field", async () => {
    const res = await post(CONTROL_PLANE_API.register.path(), {
      psk: "wrong",
      capability: report("x"),
      node_identity: "nope",
    });
    expect(res.status).toBe(401);
    const bad = await register("x", { public_key: { kty: "RSA" }, proof: "x" } as never);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { detail: string }).detail).toStartWith(
      "Invalid request body: node_identity.public_key",
    );
  });
});
