import { afterAll, describe, expect, it } from "bun:test";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { memoryLogger } from "../../lib/log";
import { processAlive } from "../../lib/process-alive";
import { connectionOptions } from "./connect";
import { startEmbeddedPostgres } from "./embedded-postgres";
import { until } from "../../testing/until";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A fresh state dir, removed after the file's tests. */
async function stateDirFor(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "cynode-pg-"));
  dirs.push(dir);
  return dir;
}

/** A server started in a fresh state dir, logging to memory. */
async function started() {
  const stateDir = await stateDirFor();
  const log = memoryLogger();
  return { stateDir, log, server: await startEmbeddedPostgres({ stateDir, log }) };
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const dead = Bun.spawn(["true"]);
  await dead.exited;
  return dead.pid;
}

const said = (log: ReturnType<typeof memoryLogger>, msg: string) => log.lines.some((l) => l.msg === msg);

const postmaster = async (stateDir: string) =>
  Number((await readFile(join(stateDir, "postgres-data", "postmaster.pid"), "utf8")).split("\n")[0]);

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
    const { stateDir, log, server: first } = await started();
    await query(first.url("postgres"), "create table kept (v text); insert into kept values ('survives')");

    // The owner "crashes": its pid is gone but its server still runs.
    await writeFile(join(stateDir, "postgres-owner.pid"), `${await deadPid()}\n`);

    const second = await startEmbeddedPostgres({ stateDir, log });
    expect(said(log, "stopping orphaned embedded postgres")).toBe(true);
    expect(await query(second.url("postgres"), "select v from kept")).toEqual([{ v: "survives" }]);
    await second.stop();
    await first.stop(); // already gone: a no-op
  }, 60_000);

  it("restarts a server killed with SIGKILL, and stops for good when asked", async () => {
    const { stateDir, log, server } = await started();
    const url = server.url("postgres");
    await query(url, "create table kept (v text); insert into kept values ('survives')");
    const killed = await postmaster(stateDir);
    process.kill(killed, "SIGKILL");
    let rows: Record<string, unknown>[] = [];
    for (let i = 0; i < 600 && !rows.length; i++) {
      await Bun.sleep(100);
      rows = await query(url, "select v from kept").catch(() => []);
    }
    expect(rows).toEqual([{ v: "survives" }]);
    expect(said(log, "embedded postgres died; restarting")).toBe(true);
    const restarted = await postmaster(stateDir);
    expect(restarted).not.toBe(killed);
    await server.stop();
    await Bun.sleep(500);
    expect(processAlive(restarted)).toBe(false);
    expect(await query(url, "select 1").catch((e: Error) => e.message)).not.toEqual([{ "?column?": 1 }]);
  }, 90_000);

  /**
   * Stops a server, leaves behind what `leave` writes (given the running server's postmaster.pid), and checks that
   * the next start serves and says `logged`.
   */
  async function startsOver(leave: (stateDir: string, pidFile: string) => Promise<void>, logged: string) {
    const { stateDir, log, server: first } = await started();
    const pidFile = await readFile(join(stateDir, "postgres-data", "postmaster.pid"), "utf8");
    await first.stop();
    await leave(stateDir, pidFile);
    const second = await startEmbeddedPostgres({ stateDir, log });
    try {
      expect(await query(second.url("postgres"), "select 1 as one")).toEqual([{ one: 1 }]);
      expect(said(log, logged)).toBe(true);
    } finally {
      await second.stop();
    }
  }

  it("starts over a dead server's postmaster.pid that still says ready", async () => {
    await startsOver(async (stateDir, stale) => {
      const pidFile = join(stateDir, "postgres-data", "postmaster.pid");
      await writeFile(pidFile, stale.replace(/^\d+/, String(await deadPid())));
    }, "removing stale postmaster.pid");
  }, 90_000);

  it("starts over an empty socket lock file, as a server killed while starting leaves it", async () => {
    await startsOver(
      (stateDir) => writeFile(join(stateDir, "postgres-run", ".s.PGSQL.5432.lock"), ""),
      "removing stale socket lock",
    );
  }, 90_000);
});

describe("embedded Postgres when a start fails", () => {
  it("retries a restart that fails until it succeeds; a first start that fails leaves no server or owner", async () => {
    const { stateDir, log, server } = await started();
    const conf = join(stateDir, "postgres-data", "postgresql.conf");
    const good = await readFile(conf, "utf8");
    await writeFile(conf, `${good}\nnot_a_setting = 1\n`); // every start now fails
    process.kill(await postmaster(stateDir), "SIGKILL");
    const logged = (msg: string) =>
      until(() => said(log, msg), `the log line "${msg}"`, { timeoutMs: 60_000, intervalMs: 100 });
    await logged("embedded postgres restart failed; retrying");
    await writeFile(conf, good);
    await logged("embedded postgres restarted");
    await server.stop();

    await writeFile(conf, `${good}\nnot_a_setting = 1\n`);
    await expect(startEmbeddedPostgres({ stateDir, log })).rejects.toThrow("postgres exited");
    expect(await Bun.file(join(stateDir, "postgres-owner.pid")).exists()).toBe(false);
  }, 120_000);

  it("refuses a state dir whose owner is alive", async () => {
    const stateDir = await stateDirFor();
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
    const parent = await stateDirFor();
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
