/** Task files against real Postgres: stored with their digest, listed without bytes, replaced, pruned, cascaded. */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { insertTaskWithJob } from "../../testing/queued-job";
import { createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { registerNode } from "./nodes";
import {
  CHUNK_BYTES,
  insertAttachments,
  listTaskFiles,
  pruneArtifacts,
  readTaskFile,
  runningJobTask,
  storeArtifact,
} from "./task-files";

let t: TestDatabase;
beforeAll(async () => void (t = await createTestDatabase()));
afterAll(() => t.drop());

const bytes = (s: string) => new TextEncoder().encode(s);
const hex = (s: string) => new Bun.CryptoHasher("sha256").update(s).digest("hex");

describe("task files", () => {
  it("stores attachments and artifacts with size, sha256 and a content type by extension", async () => {
    const { taskId, jobId } = await insertTaskWithJob(t.db);
    await insertAttachments(t.db, taskId, [{ name: "data.csv", data: bytes("a,b\n") }]);
    await insertAttachments(t.db, taskId, []);
    expect(await listTaskFiles(t.db, taskId, "attachment")).toEqual([
      { name: "data.csv", size_bytes: 4, sha256: hex("a,b\n"), content_type: "text/csv" },
    ]);
    await storeArtifact(t.db, taskId, jobId, { name: "r.bin", data: bytes("one") });
    const again = await storeArtifact(t.db, taskId, jobId, { name: "r.bin", data: bytes("two!") });
    expect(again).toEqual({
      name: "r.bin",
      size_bytes: 4,
      sha256: hex("two!"),
      content_type: "application/octet-stream",
    });
    const read = await readTaskFile(t.db, taskId, "artifact", "r.bin");
    expect(await new Response(await read?.bytes()).text()).toBe("two!");
    expect(await readTaskFile(t.db, taskId, "artifact", "data.csv")).toBeUndefined();
  });

  it("keeps a file larger than a chunk in chunks and streams it back whole", async () => {
    const { taskId } = await insertTaskWithJob(t.db);
    const data = new Uint8Array(CHUNK_BYTES * 2 + 3).map((_, i) => i % 251);
    await insertAttachments(t.db, taskId, [{ name: "big.bin", data }]);
    const rows = await t.db.selectFrom("task_file_chunks").select("seq").where("task_id", "=", taskId).execute();
    expect(rows.map((r) => r.seq).sort()).toEqual([0, 1, 2]);
    const read = await readTaskFile(t.db, taskId, "attachment", "big.bin");
    expect(new Uint8Array(await new Response(await read?.bytes()).arrayBuffer())).toEqual(data);
  });

  it("names a running job's task only to the node that runs it", async () => {
    const { taskId, jobId } = await insertTaskWithJob(t.db);
    const nodeId = crypto.randomUUID();
    await registerNode(t.db, { id: nodeId, slug: "n1", workerUrl: "http://n1", sealedToken: "s", now: new Date() });
    expect(await runningJobTask(t.db, jobId, nodeId)).toBeUndefined();
    await t.db.updateTable("jobs").set({ status: "running", node_id: nodeId }).where("id", "=", jobId).execute();
    expect(await runningJobTask(t.db, jobId, nodeId)).toBe(taskId);
    expect(await runningJobTask(t.db, jobId, crypto.randomUUID())).toBeUndefined();
    expect(await runningJobTask(t.db, "not-a-uuid", nodeId)).toBeUndefined();
  });

  it("prunes the artifacts of tasks ended before the cutoff, and a task's files go with it", async () => {
    const { taskId, jobId } = await insertTaskWithJob(t.db);
    await storeArtifact(t.db, taskId, jobId, { name: "a.txt", data: bytes("x") });
    await insertAttachments(t.db, taskId, [{ name: "in.txt", data: bytes("y") }]);
    const ended = new Date("2026-01-01T00:00:00Z");
    expect(await pruneArtifacts(t.db, new Date())).toBe(0);
    await t.db.updateTable("tasks").set({ status: "completed", updated_at: ended }).where("id", "=", taskId).execute();
    expect(await pruneArtifacts(t.db, ended)).toBe(0);
    expect(await pruneArtifacts(t.db, new Date())).toBe(1);
    expect(await listTaskFiles(t.db, taskId, "attachment")).toHaveLength(1);
    await t.db.deleteFrom("jobs").where("task_id", "=", taskId).execute();
    await t.db.deleteFrom("tasks").where("id", "=", taskId).execute();
    expect(await listTaskFiles(t.db, taskId, "attachment")).toEqual([]);
  });
});
