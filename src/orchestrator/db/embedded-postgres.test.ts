import { afterAll, describe, expect, it } from "bun:test";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { memoryLogger } from "../../lib/log";
import { connectionOptions } from "./connect";
import { startEmbeddedPostgres } from "./embedded-postgres";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const query = async (url: string, text: string): Promise<Record<string, unknown>[]> => {
  const sql = postgres(url.split("?")[0]!, { ...connectionOptions(url), max: 1 });
  try {
    return [...(await sql.unsafe(text))];
  } finally {
    await sql.end();
  }
};

describe("embedded Postgres", () => {
  it("keeps data across restarts and recovers a server orphaned by a dead owner", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "cynode-pg-"));
    dirs.push(stateDir);
    const log = memoryLogger();
    const first = await startEmbeddedPostgres({ stateDir, log });
    await query(first.url("postgres"), "create table kept (v text); insert into kept values ('survives')");

    // The owner "crashes": its pid is gone but its server still runs.
    const dead = Bun.spawn(["true"]);
    await dead.exited;
    await writeFile(join(stateDir, "postgres-owner.pid"), `${dead.pid}\n`);

    const second = await startEmbeddedPostgres({ stateDir, log });
    expect(log.lines.some((l) => l.msg === "stopping orphaned embedded postgres")).toBe(true);
    expect(await query(second.url("postgres"), "select v from kept")).toEqual([{ v: "survives" }]);
    await second.stop();
    await first.stop(); // already gone: a no-op
  }, 60_000);

  it("refuses a state dir whose owner is alive", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "cynode-pg-"));
    dirs.push(stateDir);
    const owner = Bun.spawn(["sleep", "30"]);
    await writeFile(join(stateDir, "postgres-owner.pid"), `${owner.pid}\n`);
    try {
      await expect(startEmbeddedPostgres({ stateDir, log: memoryLogger() })).rejects.toThrow(
        `is in use by process ${owner.pid}`,
      );
    } finally {
      owner.kill();
    }
  }, 60_000);

  it("explains a state dir Postgres' own user could not reach, and one too deep for a Unix socket", async () => {
    const parent = await mkdtemp(join(tmpdir(), "cynode-pg-"));
    dirs.push(parent);
    if (process.getuid?.() === 0) {
      await chmod(parent, 0o700); // as root, the server runs as another user, who cannot pass through this
      await expect(startEmbeddedPostgres({ stateDir: join(parent, "state"), log: memoryLogger() })).rejects.toThrow(
        `${parent} is not searchable by cynode-postgres`,
      );
      await chmod(parent, 0o711);
    }
    const deep = join(parent, "d".repeat(100));
    await expect(startEmbeddedPostgres({ stateDir: deep, log: memoryLogger() })).rejects.toThrow(
      "state dir path too long for a Unix socket",
    );
  }, 120_000);
});
