/** Artifact retention against real Postgres: ended tasks' artifacts go once past the retention, others stay. */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { memoryLogger } from "../../lib/log";
import { insertTaskWithJob } from "../../testing/queued-job";
import { createTestDatabase, withDatabase, type TestDatabase } from "../../testing/test-db";
import { connect } from "../db/connect";
import { until } from "../../testing/until";
import { listTaskFiles, storeArtifact } from "../db/task-files";
import { startArtifactRetention } from "./artifact-retention";

let t: TestDatabase;
beforeAll(async () => void (t = await createTestDatabase()));
afterAll(() => t.drop());

describe("artifact retention", () => {
  it("removes the artifacts of tasks ended past the retention, at start and then periodically", async () => {
    const old = await insertTaskWithJob(t.db);
    const fresh = await insertTaskWithJob(t.db);
    for (const j of [old, fresh]) await storeArtifact(t.db, j.taskId, j.jobId, { name: "a", data: new Uint8Array(1) });
    const ended = { status: "completed" as const, updated_at: new Date("2026-01-01T00:00:00Z") };
    await t.db.updateTable("tasks").set(ended).where("id", "=", old.taskId).execute();
    const log = memoryLogger("retention");
    const now = () => new Date("2026-01-02T00:00:00Z");
    const stop = startArtifactRetention({ db: t.db, log, retentionMs: 3_600_000, everyMs: 10, now });
    const gone = async (taskId: string) => (await listTaskFiles(t.db, taskId, "artifact")).length === 0;
    await until(() => gone(old.taskId), "the old task's artifacts to go");
    expect(await gone(fresh.taskId)).toBe(false);
    await t.db.updateTable("tasks").set(ended).where("id", "=", fresh.taskId).execute();
    await until(() => gone(fresh.taskId), "the second task's artifacts to go at a later prune");
    await stop();
    expect(log.lines.some((l) => l.msg === "artifacts past retention removed")).toBe(true);
  });

  it("logs a failed prune and goes on", async () => {
    const log = memoryLogger("retention");
    const missing = connect(withDatabase(t.url, "cynode_no_such_database"));
    const stop = startArtifactRetention({ db: missing, log, retentionMs: 1, everyMs: 60_000 });
    await stop();
    await missing.destroy();
    expect(log.lines.some((l) => l.msg === "artifact retention failed")).toBe(true);
  });
});
