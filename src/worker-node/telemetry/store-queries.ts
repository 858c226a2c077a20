/** The telemetry store's reads for the Worker Telemetry API: containers, newest first; log events, in time order. */
import type { Database } from "bun:sqlite";
import {
  LOGS_MAX_BYTES,
  type Container,
  type ContainersQuery,
  type LogEvent,
  type LogsQuery,
  type LogsResponse,
} from "../../contracts/telemetry";
import { pageToken } from "./page-token";

type Row = Record<string, string | number | null>;

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

export function findContainer(db: Database, id: string): Container | undefined {
  const row = db.query("SELECT * FROM container_inventory WHERE container_id = ?").get(id) as Row | null;
  return row ? containerOf(row) : undefined;
}

export function findContainers(
  db: Database,
  q: ContainersQuery & { limit: number },
  offset: number,
): { containers: Container[]; next?: string } {
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
    next: rows.length > q.limit ? pageToken(offset + q.limit) : undefined,
  };
}

/** Matching log events in time order, cut at `limit` or at the 1 MiB body limit, whichever comes first. */
export function findLogs(
  db: Database,
  q: LogsQuery & { limit: number },
  offset: number,
): Omit<LogsResponse, "version"> {
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
        next_page_token: pageToken(offset + events.length),
      };
    events.push(event);
  }
  const more = rows.length > q.limit;
  return {
    events,
    truncated: { limited_by: more ? "count" : "none", max_bytes: LOGS_MAX_BYTES },
    ...(more ? { next_page_token: pageToken(offset + q.limit) } : {}),
  };
}
