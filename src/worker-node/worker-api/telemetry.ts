/**
 * The Worker Telemetry API (bearer-protected like jobs:run): node info and stats, container inventory, and bounded
 * log queries from the node's telemetry store. Errors are problem+json, as on the rest of the Worker API.
 */
import { Hono, type MiddlewareHandler } from "hono";
import * as v from "valibot";
import type { GenericSchema } from "valibot";
import type { ProblemStatus } from "../../contracts/problem";
import {
  ContainerList,
  ContainerResponse,
  ContainersQuery,
  LogsQuery,
  LogsResponse,
  NodeInfo,
  NodeStats,
  TELEMETRY_API,
} from "../../contracts/telemetry";
import { ProblemError } from "../../lib/http-problem";
import { describeRoute } from "../../lib/openapi";
import { pageOffset } from "../telemetry/page-token";
import type { TelemetryStore } from "../telemetry/store";

export type TelemetrySource = {
  store: TelemetryStore;
  info: () => NodeInfo;
  stats: () => Promise<NodeStats>;
};

function parsed<S extends v.GenericSchema>(schema: S, query: Record<string, string>): v.InferOutput<S> {
  const r = v.safeParse(schema, query);
  if (!r.success) {
    const issue = r.issues[0];
    const key = issue.path?.[0]?.key;
    throw new ProblemError(
      400,
      issue.message.startsWith("Invalid") && key ? `${String(key)}: ${issue.message}` : issue.message,
    );
  }
  return r.output;
}

function offsetOf(pageToken: string | undefined): number {
  const offset = pageOffset(pageToken);
  if (offset === undefined) throw new ProblemError(400, "Invalid page_token");
  return offset;
}

const doc = (summary: string, ok: GenericSchema, query?: GenericSchema, problems: ProblemStatus[] = []) =>
  describeRoute({
    summary,
    tags: ["telemetry"],
    auth: true,
    query,
    responses: { 200: ok },
    problems: [400, 401, ...problems, 503],
  });

export function telemetryRoutes({
  auth,
  source,
}: {
  auth: MiddlewareHandler;
  source: () => TelemetrySource | undefined;
}) {
  const need = (): TelemetrySource => {
    const s = source();
    if (!s) throw new ProblemError(503, "Telemetry is not available yet");
    return s;
  };
  return new Hono()
    .get(TELEMETRY_API.nodeInfo, doc("Node identity and platform", NodeInfo), auth, (c) => c.json(need().info()))
    .get(TELEMETRY_API.nodeStats, doc("Node resource snapshot", NodeStats), auth, async (c) =>
      c.json(await need().stats()),
    )
    .get(TELEMETRY_API.containers, doc("Containers the node ran", ContainerList, ContainersQuery), auth, (c) => {
      const q = parsed(ContainersQuery, c.req.query());
      const page = need().store.containers(q, offsetOf(q.page_token));
      const body: ContainerList = {
        version: 1,
        containers: page.containers,
        ...(page.next ? { next_page_token: page.next } : {}),
      };
      return c.json(body);
    })
    .get(`${TELEMETRY_API.containers}/:id`, doc("One container", ContainerResponse, undefined, [404]), auth, (c) => {
      const container = need().store.container(c.req.param("id"));
      if (!container) throw new ProblemError(404, "Container not found");
      return c.json({ version: 1, container });
    })
    .get(TELEMETRY_API.logs, doc("Service or container logs", LogsResponse, LogsQuery), auth, (c) => {
      const q = parsed(LogsQuery, c.req.query());
      const service = q.source_kind === "service" && q.source_name;
      const container = q.source_kind === "container" && q.container_id;
      if (!service && !container)
        throw new ProblemError(
          400,
          "source_kind=service with source_name, or source_kind=container with container_id, is required",
        );
      const body: LogsResponse = { version: 1, ...need().store.logs(q, offsetOf(q.page_token)) };
      return c.json(body);
    });
}
