/** The node client's job files against the real control-plane over real HTTP: fetch, store, and a new token on 401. */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { NodeCapabilityReport } from "../../contracts/node-payloads";
import { createLogger } from "../../lib/log";
import { serveApp, type Served } from "../../lib/serve";
import { createTokens } from "../../orchestrator/auth/tokens";
import { insertAttachments, listTaskFiles } from "../../orchestrator/db/task-files";
import { testControlPlane } from "../../testing/control-plane-fixture";
import { insertTaskWithJob } from "../../testing/queued-job";
import { createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { createOrchestratorClient, OrchestratorError } from "./orchestrator-client";

let t: TestDatabase;
let server: Served;
let clock = new Date("2026-03-01T10:00:00Z");
const report = {
  version: 1,
  reported_at: "2026-03-01T10:00:00Z",
  node: { node_slug: "files-node", name: "n" },
  platform: { os: "linux", arch: "amd64" },
  compute: { cpu_cores: 1, ram_mb: 1024 },
  sandbox: { supported: true, features: [], max_concurrency: 1 },
  inference: { supported: false, existing_service: false },
  worker_api: { base_url: "http://files-node.test:12090" },
} as unknown as NodeCapabilityReport;

beforeAll(async () => {
  t = await createTestDatabase();
  const tokens = createTokens({
    secret: "job-files-client-secret-0123456789abc",
    ttl: { accessMs: 900_000, refreshMs: 86_400_000, nodeMs: 60_000 },
    now: () => clock,
  });
  const app = testControlPlane({ db: t.db, tokens, publicUrl: "http://127.0.0.1:1", now: () => clock });
  server = serveApp(app, { hostname: "127.0.0.1", port: 0 });
});
afterAll(async () => {
  await server.stop(0);
  await t.drop();
});

describe("orchestrator client job files", () => {
  it("fetches an attachment and stores an artifact of a job it runs, registering again on 401", async () => {
    const base = server.url.toString().replace(/\/$/, "");
    // The bootstrap names the control-plane by its public URL: the test's own server stands in for it.
    const fetch = ((url: string | URL, init?: RequestInit) =>
      globalThis.fetch(String(url).replace("http://127.0.0.1:1", base), init)) as typeof globalThis.fetch;
    const client = createOrchestratorClient({
      baseUrl: base,
      psk: "psk",
      requestTimeoutMs: 5000,
      log: createLogger({ name: "test", level: "error" }),
      fetch,
    });
    await expect(client.files.fetchAttachment("j", "a")).rejects.toThrow("not registered");
    await client.register(report);
    const node = await t.db
      .selectFrom("nodes")
      .select("id")
      .where("node_slug", "=", "files-node")
      .executeTakeFirstOrThrow();
    const job = await insertTaskWithJob(t.db);
    await t.db.updateTable("jobs").set({ status: "running", node_id: node.id }).where("id", "=", job.jobId).execute();
    await insertAttachments(t.db, job.taskId, [{ name: "in.txt", data: new TextEncoder().encode("hi") }]);
    expect(new TextDecoder().decode(await client.files.fetchAttachment(job.jobId, "in.txt"))).toBe("hi");
    clock = new Date(clock.getTime() + 120_000); // the node token has expired
    const stored = await client.files.storeArtifact(job.jobId, "out.txt", new TextEncoder().encode("ok"), "text/plain");
    expect(stored).toMatchObject({ name: "out.txt", size_bytes: 2, content_type: "text/plain" });
    expect((await listTaskFiles(t.db, job.taskId, "artifact")).map((f) => f.name)).toEqual(["out.txt"]);
    const missing = await client.files.fetchAttachment(job.jobId, "nope").catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OrchestratorError);
    const other = await insertTaskWithJob(t.db);
    await expect(client.files.storeArtifact(other.jobId, "x", new Uint8Array(1), "")).rejects.toThrow("HTTP 404");
  });
});
