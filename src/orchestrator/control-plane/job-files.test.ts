/** A node's job files over real HTTP on a real database: only for a job it runs now, bounded by the artifact cap. */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { CONTROL_PLANE_API as API } from "../../contracts/routes";
import { digestHeader } from "../../contracts/task-files";
import { serveApp, type Served } from "../../lib/serve";
import { testControlPlane } from "../../testing/control-plane-fixture";
import { insertTaskWithJob } from "../../testing/queued-job";
import { createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { createTokens } from "../auth/tokens";
import { registerNode } from "../db/nodes";
import { insertAttachments, listTaskFiles, readTaskFile } from "../db/task-files";

let t: TestDatabase;
let server: Served;
const tokens = createTokens({
  secret: "job-files-test-secret-0123456789abcdef",
  ttl: { accessMs: 900_000, refreshMs: 86_400_000, nodeMs: 86_400_000 },
});
const nodeId = crypto.randomUUID();
let token: string;
let job: { taskId: string; jobId: string };

beforeAll(async () => {
  t = await createTestDatabase();
  const app = testControlPlane({ db: t.db, tokens, maxArtifactBytes: 1024 });
  server = serveApp(app, { hostname: "127.0.0.1", port: 0 });
  await registerNode(t.db, { id: nodeId, slug: "n1", workerUrl: "http://n1", sealedToken: "s", now: new Date() });
  token = (await tokens.issueNode({ id: nodeId, slug: "n1" })).token;
  job = await insertTaskWithJob(t.db);
  await t.db.updateTable("jobs").set({ status: "running", node_id: nodeId }).where("id", "=", job.jobId).execute();
  await insertAttachments(t.db, job.taskId, [{ name: "data.csv", data: new TextEncoder().encode("a,b\n") }]);
});
afterAll(async () => {
  await server.stop(0);
  await t.drop();
});

const call = (path: string, init: RequestInit = {}, auth = token) =>
  fetch(new URL(path, server.url), { ...init, headers: { authorization: `Bearer ${auth}`, ...init.headers } });
const attachment = (jobId: string, name: string) => API.jobAttachment.path({ job_id: jobId, name });
const artifact = (jobId: string, name: string) => API.jobArtifact.path({ job_id: jobId, name });
const sha = (s: string) => new Bun.CryptoHasher("sha256").update(s).digest("hex");

describe("job files on the control-plane", () => {
  it("serves an attachment of a job the node runs, with its length and digest", async () => {
    const res = await call(attachment(job.jobId, "data.csv"));
    expect([res.status, res.headers.get("content-length"), await res.text()]).toEqual([200, "4", "a,b\n"]);
    expect(res.headers.get("repr-digest")).toBe(digestHeader(sha("a,b\n")));
    expect((await call(attachment(job.jobId, "other.csv"))).status).toBe(404);
    expect((await call(attachment(job.jobId, "a\tb"))).status).toBe(400);
  });

  it("stores an artifact as sent, its content type from the request or the name", async () => {
    const res = await call(artifact(job.jobId, "out.txt"), { method: "POST", body: "hello" });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({
      name: "out.txt",
      size_bytes: 5,
      sha256: sha("hello"),
      content_type: "text/plain",
    });
    await call(artifact(job.jobId, "r.bin"), { method: "POST", body: "x", headers: { "content-type": "image/png" } });
    expect((await listTaskFiles(t.db, job.taskId, "artifact")).map((f) => f.content_type)).toEqual([
      "text/plain",
      "image/png",
    ]);
    const stored = await readTaskFile(t.db, job.taskId, "artifact", "out.txt");
    expect(await new Response(await stored?.bytes()).text()).toBe("hello");
  });

  it("refuses an artifact past the cap, and everything for a job the node does not run", async () => {
    const big = await call(artifact(job.jobId, "big"), { method: "POST", body: "x".repeat(1025) });
    expect(big.status).toBe(413);
    const other = await insertTaskWithJob(t.db);
    expect((await call(attachment(other.jobId, "data.csv"))).status).toBe(404);
    expect((await call(artifact(other.jobId, "a"), { method: "POST", body: "x" })).status).toBe(404);
    expect((await call(attachment(job.jobId, "data.csv"), {}, "bad")).status).toBe(401);
    // Other routes keep the shared limit.
    const cap = await call(API.capability.path(), { method: "POST", body: "x".repeat(11 * 1024 * 1024) });
    expect(cap.status).toBe(413);
  });
});
