/**
 * The node-local telemetry store (`<state_dir>/telemetry/telemetry.db`, SQLite in WAL mode, the reference's schema
 * v1): boots, container inventory and events, service and container logs. Retention keeps it bounded: 7 days of
 * logs, 30 days of container events and of inventory rows not running, and at most `maxLogRows` log rows.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Container, ContainersQuery, LogEvent, LogsQuery } from "../../contracts/telemetry";
import { findContainer, findContainers, findLogs } from "./store-queries";

const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, applied_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS node_boot (boot_id TEXT PRIMARY KEY, booted_at TEXT NOT NULL, node_slug TEXT NOT NULL,
  build_version TEXT NOT NULL, git_sha TEXT NOT NULL, platform_os TEXT NOT NULL, platform_arch TEXT NOT NULL,
  kernel_version TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS container_inventory (container_id TEXT PRIMARY KEY, container_name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('managed', 'sandbox')), runtime TEXT NOT NULL, image_ref TEXT NOT NULL,
  created_at TEXT NOT NULL, last_seen_at TEXT NOT NULL, status TEXT NOT NULL, exit_code INTEGER, task_id TEXT,
  job_id TEXT, labels_json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_container_inventory_kind_status ON container_inventory(kind, status);
CREATE INDEX IF NOT EXISTS idx_container_inventory_task_job ON container_inventory(task_id, job_id);
CREATE TABLE IF NOT EXISTS container_event (event_id TEXT PRIMARY KEY, occurred_at TEXT NOT NULL,
  container_id TEXT NOT NULL, action TEXT NOT NULL, status TEXT NOT NULL, exit_code INTEGER, task_id TEXT,
  job_id TEXT, details_json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_container_event_container_time ON container_event(container_id, occurred_at);
CREATE INDEX IF NOT EXISTS idx_container_event_task_job ON container_event(task_id, job_id);
CREATE TABLE IF NOT EXISTS log_event (log_id TEXT PRIMARY KEY, occurred_at TEXT NOT NULL,
  source_kind TEXT NOT NULL CHECK (source_kind IN ('service', 'container')), source_name TEXT NOT NULL,
  container_id TEXT, stream TEXT CHECK (stream IN ('stdout', 'stderr')), level TEXT, message TEXT NOT NULL,
  fields_json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_log_event_source_time ON log_event(source_kind, source_name, occurred_at);
CREATE INDEX IF NOT EXISTS idx_log_event_container_time ON log_event(container_id, occurred_at);
`;

const DAY_MS = 86_400_000;
export const RETENTION = { logsMs: 7 * DAY_MS, eventsMs: 30 * DAY_MS, inventoryMs: 30 * DAY_MS, maxLogRows: 200_000 };

export type ContainerRecord = Omit<Container, "labels"> & { labels: Record<string, string> };
export type Boot = {
  node_slug: string;
  build_version: string;
  git_sha: string;
  os: string;
  arch: string;
  kernel_version: string;
};

/** Writes the container inventory and its lifecycle events (statements prepared once per store). */
function containerWriter(db: Database) {
  const upsert = db.query(`INSERT INTO container_inventory (container_id, container_name, kind, runtime, image_ref,
      created_at, last_seen_at, status, exit_code, task_id, job_id, labels_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (container_id) DO UPDATE SET last_seen_at = excluded.last_seen_at, status = excluded.status,
      exit_code = excluded.exit_code`);
  const insertEvent = db.query(`INSERT INTO container_event (event_id, occurred_at, container_id, action, status,
      exit_code, task_id, job_id, details_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  return {
    /** Upserts the inventory row and appends the lifecycle event (`action`: created, started, stopped, removed). */
    recordContainer(c: ContainerRecord, action: string, details: Record<string, unknown> = {}): void {
      const { exit_code = null, task_id = null, job_id = null } = c;
      db.transaction(() => {
        upsert.run(
          c.container_id,
          c.container_name,
          c.kind,
          c.runtime,
          c.image_ref,
          c.created_at,
          c.last_seen_at,
          c.status,
          exit_code,
          task_id,
          job_id,
          JSON.stringify(c.labels),
        );
        insertEvent.run(
          crypto.randomUUID(),
          c.last_seen_at,
          c.container_id,
          action,
          c.status,
          exit_code,
          task_id,
          job_id,
          JSON.stringify(details),
        );
      })();
    },
  };
}

/** Writes boots and log lines, the service's and the containers'. */
function logWriter(db: Database, now: () => Date) {
  const insertLog = db.query(
    "INSERT INTO log_event (log_id, occurred_at, source_kind, source_name, container_id, stream, level, message, fields_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  return {
    recordBoot(b: Boot): void {
      db.query("INSERT INTO node_boot VALUES (?, ?, ?, ?, ?, ?, ?, ?)").run(
        crypto.randomUUID(),
        now().toISOString(),
        b.node_slug,
        b.build_version,
        b.git_sha,
        b.os,
        b.arch,
        b.kernel_version,
      );
    },

    appendLog(e: LogEvent): void {
      insertLog.run(
        crypto.randomUUID(),
        e.occurred_at,
        e.source_kind,
        e.source_name,
        e.container_id ?? null,
        e.stream ?? null,
        e.level ?? null,
        e.message,
        JSON.stringify(e.fields),
      );
    },
  };
}

/** Drops what is past retention; returns how many rows went. */
function enforceRetention(db: Database, now: Date): number {
  const iso = (ms: number) => new Date(now.getTime() - ms).toISOString();
  let removed = db.query("DELETE FROM log_event WHERE occurred_at < ?").run(iso(RETENTION.logsMs)).changes;
  removed += db
    .query("DELETE FROM log_event WHERE rowid <= (SELECT MAX(rowid) FROM log_event) - ?")
    .run(RETENTION.maxLogRows).changes;
  removed += db.query("DELETE FROM container_event WHERE occurred_at < ?").run(iso(RETENTION.eventsMs)).changes;
  removed += db
    .query("DELETE FROM container_inventory WHERE last_seen_at < ? AND status <> 'running'")
    .run(iso(RETENTION.inventoryMs)).changes;
  return removed;
}

export type TelemetryStore = ReturnType<typeof openTelemetryStore>;

export function openTelemetryStore(stateDir: string, opts: { now?: () => Date } = {}) {
  const now = opts.now ?? (() => new Date());
  const dir = join(stateDir, "telemetry");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const db = new Database(join(dir, "telemetry.db"), { create: true });
  db.exec("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;");
  db.exec(SCHEMA_V1);
  db.query("INSERT OR IGNORE INTO schema_version (id, version, applied_at) VALUES (1, 1, ?)").run(now().toISOString());
  return {
    ...logWriter(db, now),
    ...containerWriter(db),
    container: (id: string) => findContainer(db, id),
    containers: (q: ContainersQuery & { limit: number }, offset: number) => findContainers(db, q, offset),
    logs: (q: LogsQuery & { limit: number }, offset: number) => findLogs(db, q, offset),
    enforceRetention: () => enforceRetention(db, now()),
    vacuum: () => void db.exec("VACUUM"),
    close: () => db.close(),
  };
}
