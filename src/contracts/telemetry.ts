/**
 * Worker Telemetry API (node :12090, bearer-protected like jobs:run), as the reference's worker_telemetry_api.md:
 * every answer carries `version: 1`; lists page with opaque `page_token`s; log queries report truncation.
 */
import * as v from "valibot";
import { NodeCapabilityReport } from "./node-payloads";
import { OUTPUT_STREAMS } from "./worker-api";

export const CONTAINER_KINDS = ["managed", "sandbox"] as const;
export const LOG_SOURCE_KINDS = ["service", "container"] as const;
/** The log query's response body limit, reported as `truncated.max_bytes`. */
export const LOGS_MAX_BYTES = 1_048_576;

const Int = v.pipe(v.number(), v.integer());

export const NodeInfo = v.object({
  version: v.literal(1),
  node_slug: v.string(),
  build: v.object({ build_version: v.string(), git_sha: v.string() }),
  platform: v.object({ os: v.string(), arch: v.string(), kernel_version: v.string() }),
  last_capability_report: v.optional(NodeCapabilityReport),
});

export const NodeStats = v.object({
  version: v.literal(1),
  captured_at: v.string(),
  cpu: v.object({ cores: Int, load1: v.number(), load5: v.number(), load15: v.number() }),
  memory: v.object({ total_mb: Int, used_mb: Int, free_mb: Int }),
  disk: v.object({ state_dir_free_mb: Int, state_dir_total_mb: Int }),
  container_runtime: v.object({ runtime: v.string(), version: v.string() }),
});

export const Container = v.object({
  container_id: v.string(),
  container_name: v.string(),
  kind: v.picklist(CONTAINER_KINDS),
  runtime: v.string(),
  image_ref: v.string(),
  created_at: v.string(),
  last_seen_at: v.string(),
  status: v.string(),
  exit_code: v.optional(Int),
  task_id: v.optional(v.string()),
  job_id: v.optional(v.string()),
  labels: v.record(v.string(), v.string()),
});

export const ContainerList = v.object({
  version: v.literal(1),
  containers: v.array(Container),
  next_page_token: v.optional(v.string()),
});
export const ContainerResponse = v.object({ version: v.literal(1), container: Container });

export const LogEvent = v.object({
  occurred_at: v.string(),
  source_kind: v.picklist(LOG_SOURCE_KINDS),
  source_name: v.string(),
  container_id: v.optional(v.string()),
  stream: v.optional(v.picklist(OUTPUT_STREAMS)),
  level: v.optional(v.string()),
  message: v.string(),
  fields: v.record(v.string(), v.unknown()),
});

export const LogsResponse = v.object({
  version: v.literal(1),
  events: v.array(LogEvent),
  truncated: v.object({ limited_by: v.picklist(["count", "bytes", "none"]), max_bytes: Int }),
  next_page_token: v.optional(v.string()),
});

const Uuid = v.pipe(v.string(), v.uuid("must be a UUID"));
const Rfc3339 = v.pipe(v.string(), v.isoTimestamp("must be an RFC 3339 timestamp"));
const Limit = (max: number) =>
  v.pipe(
    v.string(),
    v.regex(/^\d+$/, `limit must be an integer from 1 to ${max}`),
    v.transform(Number),
    v.minValue(1, `limit must be an integer from 1 to ${max}`),
    v.maxValue(max, `limit must be an integer from 1 to ${max}`),
  );

export const ContainersQuery = v.object({
  kind: v.optional(v.picklist(CONTAINER_KINDS, "kind must be managed or sandbox")),
  status: v.optional(v.string()),
  task_id: v.optional(Uuid),
  job_id: v.optional(Uuid),
  limit: v.optional(Limit(1000), "100"),
  page_token: v.optional(v.string()),
});

export const LogsQuery = v.object({
  source_kind: v.optional(v.picklist(LOG_SOURCE_KINDS, "source_kind must be service or container")),
  source_name: v.optional(v.string()),
  container_id: v.optional(v.string()),
  stream: v.optional(v.picklist(OUTPUT_STREAMS, "stream must be stdout or stderr")),
  since: v.optional(Rfc3339),
  until: v.optional(Rfc3339),
  limit: v.optional(Limit(5000), "1000"),
  page_token: v.optional(v.string()),
});

export type NodeInfo = v.InferOutput<typeof NodeInfo>;
export type NodeStats = v.InferOutput<typeof NodeStats>;
export type Container = v.InferOutput<typeof Container>;
export type ContainerList = v.InferOutput<typeof ContainerList>;
export type LogEvent = v.InferOutput<typeof LogEvent>;
export type LogsResponse = v.InferOutput<typeof LogsResponse>;
export type ContainersQuery = v.InferOutput<typeof ContainersQuery>;
export type LogsQuery = v.InferOutput<typeof LogsQuery>;
