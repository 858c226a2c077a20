/** `WORKER_API_BEARER_TOKEN`: one operator-chosen Worker API token for every node, instead of one per node. */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import * as v from "valibot";
import { NodeBootstrapPayload, NodeConfigurationPayload } from "../../contracts/node-payloads";
import { CONTROL_PLANE_API } from "../../contracts/routes";
import { memoryLogger } from "../../lib/log";
import { testCapability } from "../../testing/ready-node";
import { createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { createSecretBox, keyFromPassphrase } from "../auth/secret-box";
import { createTokens } from "../auth/tokens";
import { createControlPlane } from "./app";

const PSK = "worker-token-psk";
const OPERATOR_TOKEN = "operator-chosen-worker-token";
const secrets = createSecretBox(keyFromPassphrase("worker-token-test"));
const tokens = createTokens({
  secret: "worker-token-test-secret-0123456789",
  ttl: { accessMs: 900_000, refreshMs: 86_400_000, nodeMs: 86_400_000 },
});
const log = memoryLogger("cp");
let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.drop());

const plane = (workerApiBearerToken?: string) =>
  createControlPlane({
    db: t.db,
    tokens,
    secrets,
    log,
    registrationPsk: PSK,
    publicUrl: "http://orch.test:12082",
    workerApiBearerToken,
  });

/** Registers `slug` and fetches its config; resolves to the Worker API token the node is told to accept. */
async function tokenGiven(app: ReturnType<typeof plane>, slug: string): Promise<string> {
  const capability = testCapability(slug, `http://${slug}.test:12090`);
  const reg = await app.request(CONTROL_PLANE_API.register.path(), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ psk: PSK, capability }),
  });
  const jwt = v.parse(NodeBootstrapPayload, await reg.json()).auth.node_jwt;
  const res = await app.request(CONTROL_PLANE_API.config.path(), { headers: { authorization: `Bearer ${jwt}` } });
  return v.parse(NodeConfigurationPayload, await res.json()).worker_api!.orchestrator_bearer_token!;
}

const stored = async (slug: string) => {
  const row = await t.db
    .selectFrom("nodes")
    .select("worker_api_bearer_token")
    .where("node_slug", "=", slug)
    .executeTakeFirstOrThrow();
  return secrets.open(row.worker_api_bearer_token!);
};

describe("WORKER_API_BEARER_TOKEN", () => {
  it("gives every node its own random token when unset", async () => {
    const a = await tokenGiven(plane(), "own-a");
    const b = await tokenGiven(plane(), "own-b");
    expect(a).not.toBe(b);
    expect(a.length).toBeGreaterThan(30);
  });

  it("gives every node the operator's token when set, new nodes and nodes registered before alike", async () => {
    const before = await tokenGiven(plane(), "earlier-node");
    expect(before).not.toBe(OPERATOR_TOKEN);
    const app = plane(OPERATOR_TOKEN);
    expect(await tokenGiven(app, "new-node")).toBe(OPERATOR_TOKEN);
    expect(await tokenGiven(app, "earlier-node")).toBe(OPERATOR_TOKEN);
    // What the dispatcher and the chat route will send is what the node was told.
    expect([await stored("new-node"), await stored("earlier-node")]).toEqual([OPERATOR_TOKEN, OPERATOR_TOKEN]);
    expect(JSON.stringify(log.lines)).not.toContain(OPERATOR_TOKEN);
  });
});
