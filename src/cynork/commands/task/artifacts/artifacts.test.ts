/** `task create --attach` and `task artifacts list|get`, in-process against a real gateway on a real database. */
import { beforeAll, describe, expect, it } from "bun:test";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { storeArtifact } from "../../../../orchestrator/db/task-files";
import { PASSWORD } from "../../../../testing/gateway-fixture";
import { useCynorkFixture } from "../../../../testing/cynork-fixture";

const f = useCynorkFixture();
const sha = (d: Uint8Array | string) => new Bun.CryptoHasher("sha256").update(d).digest("hex");
let taskId: string;

beforeAll(async () => {
  await f.cynork(["auth", "login", "-u", "alice", "--password-stdin"], { stdin: `${PASSWORD}\n` });
  await writeFile(join(f.dir, "data.csv"), "a,b\n");
});

describe("cynork task create --attach", () => {
  it("uploads the file with the task; the task keeps the path as given", async () => {
    const path = join(f.dir, "data.csv");
    const r = await f.cynork(["-o", "json", "task", "create", "--command", "cat data.csv", "-a", path]);
    expect(r.code).toBe(0);
    const task = JSON.parse(r.stdout);
    expect(task.attachments).toEqual([path]);
    taskId = task.task_id;
    const stored = await f.t.db
      .selectFrom("task_files")
      .select(["name", "sha256"])
      .where("task_id", "=", taskId)
      .execute();
    expect(stored).toEqual([{ name: "data.csv", sha256: sha("a,b\n") }]);
  });
});

describe("cynork task artifacts", () => {
  it("lists the artifacts and downloads them all, or those named, checked against their sha256", async () => {
    const job = await f.t.db.selectFrom("jobs").select("id").where("task_id", "=", taskId).executeTakeFirstOrThrow();
    const report = new Uint8Array([1, 2, 3, 0, 255]);
    await storeArtifact(f.t.db, taskId, job.id, { name: "report.bin", data: report });
    await storeArtifact(f.t.db, taskId, job.id, { name: "b.txt", data: new TextEncoder().encode("b") });
    const listed = await f.cynork(["task", "artifacts", "list", taskId]);
    expect(listed.stdout).toBe(
      `name=b.txt size_bytes=1 sha256=${sha("b")} content_type=text/plain\n` +
        `name=report.bin size_bytes=5 sha256=${sha(report)} content_type=application/octet-stream\n`,
    );
    const out = join(f.dir, "out");
    const one = await f.cynork(["task", "artifacts", "get", taskId, "report.bin", "-O", out]);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain(`path=${join(out, "report.bin")}`);
    expect(new Uint8Array(await readFile(join(out, "report.bin")))).toEqual(report);
    const all = await f.cynork(["-o", "json", "task", "artifacts", "get", taskId, "-O", join(f.dir, "all")]);
    expect(JSON.parse(all.stdout).artifacts.map((a: { name: string }) => a.name)).toEqual(["b.txt", "report.bin"]);
    const missing = await f.cynork(["task", "artifacts", "get", taskId, "nope"]);
    expect([missing.code, missing.stderr]).toEqual([4, expect.stringContaining("no such artifact: nope")]);
  });

  it("refuses a download that does not match its listed digest", async () => {
    const job = await f.t.db.selectFrom("jobs").select("id").where("task_id", "=", taskId).executeTakeFirstOrThrow();
    await storeArtifact(f.t.db, taskId, job.id, { name: "c.txt", data: new TextEncoder().encode("c") });
    await f.t.db
      .updateTable("task_files")
      .set({ sha256: sha("other") })
      .where("name", "=", "c.txt")
      .execute();
    const r = await f.cynork(["task", "artifacts", "get", taskId, "c.txt", "-O", join(f.dir, "bad")]);
    expect([r.code, r.stderr]).toEqual([7, expect.stringContaining("the download does not match its sha256")]);
    expect(await Bun.file(join(f.dir, "bad", "c.txt")).exists()).toBe(false);
  });
});
