/**
 * The node-local telemetry store (`<state_dir>/telemetry/telemetry.db`, SQLite in WAL mode, the reference's schema
 * v1): boots, container inventory and events, service and container logs. Retention keeps it bounded: 7 days of
 * logs, 30 days of container events and of inventory rows not running, and at most `maxLogRows` log rows.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  LOGS_MAX_BYTES,
  type Container,
  type ContainersQuery,
  type LogEvent,
  type LogsQuery,
  type LogsResponse,
} from "../../contracts/telemetry";

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

type Row = Record<string, string | number | null>;

const token = (offset: number) => Buffer.from(JSON.stringify({ o: offset })).toString("base64url");
/** An opaque page token back to its offset; anything we did not issue is a bad request (undefined). */
export function pageOffset(pageToken: string | undefined): number | undefined {
  if (!pageToken) return 0;
  try {
    const o = (JSON.parse(Buffer.from(pageToken, "base64url").toString()) as { o?: unknown }).o;
    return typeof o === "number" && Number.isInteger(o) && o >= 0 ? o : undefined;
  } catch {
    return undefined;
  }
}

function containerOf(r: Row): Container {
  return {
    container_id: String(r.container_id),
    container_name: String(r.container_name),
    kind: r.kind as Container["kind"],
    runtime: String(r.runtime),
    image_ref: String(r.image_ref),
    created_at: String(r.created_at),
    last_seen_at: String(r.last_seen_at),
    status: String(r.status),
    ...(r.exit_code !== null ? { exit_code: Number(r.exit_code) } : {}),
    ...(r.task_id ? { task_id: String(r.task_id) } : {}),
    ...(r.job_id ? { job_id: String(r.job_id) } : {}),
    labels: JSON.parse(String(r.labels_json)),
  };
}

function logOf(r: Row): LogEvent {
  return {
    occurred_at: String(r.occurred_at),
    source_kind: r.source_kind as LogEvent["source_kind"],
    source_name: String(r.source_name),
    ...(r.container_id ? { container_id: String(r.container_id) } : {}),
    ...(r.stream ? { stream: r.stream as LogEvent["stream"] } : {}),
    ...(r.level ? { level: String(r.level) } : {}),
    message: String(r.message),
    fields: JSON.parse(String(r.fields_json)),
  };
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

  const insertLog = db.query(
    "INSERT INTO log_event (log_id, occurred_at, source_kind, source_name, container_id, stream, level, message, fields_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const upsert = db.query(`INSERT INTO container_inventory (container_id, container_name, kind, runtime, image_ref,
      created_at, last_seen_at, status, exit_code, task_id, job_id, labels_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (container_id) DO UPDATE SET last_seen_at = excluded.last_seen_at, status = excluded.status,
      exit_code = excluded.exit_code`);
  const insertEvent = db.query(`INSERT INTO container_event (event_id, occurred_at, container_id, action, status,
      exit_code, task_id, job_id, details_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);

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

    /** Upserts the inventory row and appends the lifecycle event (`action`: created, started, stopped, removed). */
    recordContainer(c: ContainerRecord, action: string, details: Record<string, unknown> = {}): void {
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
          c.exit_code ?? null,
          c.task_id ?? null,
          c.job_id ?? null,
          JSON.stringify(c.labels),
        );
        insertEvent.run(
          crypto.randomUUID(),
          c.last_seen_at,
          c.container_id,
          action,
          c.status,
          c.exit_code ?? null,
          c.task_id ?? null,
          c.job_id ?? null,
          JSON.stringify(details),
        );
      })();
    },

    container(id: string): Container | undefined {
      const row = db.query("SELECT * FROM container_inventory WHERE container_id = ?").get(id) as Row | null;
      return row ? containerOf(row) : undefined;
    },

    containers(q: ContainersQuery & { limit: number }, offset: number): { containers: Container[]; next?: string } {
      const where: string[] = [];
      const params: (string | number)[] = [];
      for (const key of ["kind", "status", "task_id", "job_id"] as const)
        if (q[key] !== undefined) {
          where.push(`${key} = ?`);
          params.push(q[key]!);
        }
      const rows = db
        .query(
          `SELECT * FROM container_inventory ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
           ORDER BY last_seen_at DESC, container_id LIMIT ? OFFSET ?`,
        )
        .all(...params, q.limit + 1, offset) as Row[];
      return {
        containers: rows.slice(0, q.limit).map(containerOf),
        next: rows.length > q.limit ? token(offset + q.limit) : undefined,
      };
    },

    /** Matching log events in time order, cut at `limit` or at the 1 MiB body limit, whichever comes first. */
    logs(q: LogsQuery & { limit: number }, offset: number): Omit<LogsResponse, "version"> {
      const where: string[] = [];
      const params: (string | number)[] = [];
      const add = (clause: string, value: string) => {
        where.push(clause);
        params.push(value);
      };
      add("source_kind = ?", q.source_kind!);
      if (q.source_kind === "service") add("source_name = ?", q.source_name!);
      else add("container_id = ?", q.container_id!);
      if (q.stream) add("stream = ?", q.stream);
      if (q.since) add("occurred_at >= ?", new Date(q.since).toISOString());
      if (q.until) add("occurred_at < ?", new Date(q.until).toISOString());
      const rows = db
        .query(`SELECT * FROM log_event WHERE ${where.join(" AND ")} ORDER BY occurred_at, rowid LIMIT ? OFFSET ?`)
        .all(...params, q.limit + 1, offset) as Row[];
      const events: LogEvent[] = [];
      // Room for the envelope (version, truncation, page token) around the events.
      let bytes = 256;
      for (const row of rows.slice(0, q.limit)) {
        const event = logOf(row);
        bytes += Buffer.byteLength(JSON.stringify(event)) + 1;
        if (bytes > LOGS_MAX_BYTES)
          return {
            events,
            truncated: { limited_by: "bytes", max_bytes: LOGS_MAX_BYTES },
            next_page_token: token(offset + events.length),
          };
        events.push(event);
      }
      const more = rows.length > q.limit;
      return {
        events,
        truncated: { limited_by: more ? "count" : "none", max_bytes: LOGS_MAX_BYTES },
        ...(more ? { next_page_token: token(offset + q.limit) } : {}),
      };
    },

    /** Drops what is past retention; returns how many rows went. */
    enforceRetention(): number {
      const t = now().getTime();
      const iso = (ms: number) => new Date(t - ms).toISOString();
      let removed = db.query("DELETE FROM log_event WHERE occurred_at < ?").run(iso(RETENTION.logsMs)).changes;
      removed += db
        .query("DELETE FROM log_event WHERE rowid <= (SELECT MAX(rowid) FROM log_event) - ?")
        .run(RETENTION.maxLogRows).changes;
      removed += db.query("DELETE FROM container_event WHERE occurred_at < ?").run(iso(RETENTION.eventsMs)).changes;
      removed += db
        .query("DELETE FROM container_inventory WHERE last_seen_at < ? AND status <> 'running'")
        .run(iso(RETENTION.inventoryMs)).changes;
      return removed;
    },

    vacuum(): void {
      db.exec("VACUUM");
    },

    close(): void {
      db.close();
    },
  };
}
