/**
 * The Worker Telemetry API (bearer-protected like jobs:run): node info and stats, container inventory, and bounded
 * log queries from the node's telemetry store. Errors are problem+json, as on the rest of the Worker API.
 */
import { Hono, type MiddlewareHandler } from "hono";
import * as v from "valibot";
import type { ProblemStatus } from "../../contracts/problem";
import type { AnyRoute } from "../../contracts/route";
import { WORKER_API } from "../../contracts/routes";
import type { ContainerList, LogsResponse, NodeInfo, NodeStats } from "../../contracts/telemetry";
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

const doc = (route: AnyRoute, summary: string, problems: ProblemStatus[] = []) =>
  describeRoute(route, { summary, tags: ["telemetry"], problems: [400, 401, ...problems, 503] });
const { nodeInfo: INFO, nodeStats: STATS, containers: CONTAINERS, container: CONTAINER, logs: LOGS } = WORKER_API;

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
    .get(INFO.pattern, doc(INFO, "Node identity and platform"), auth, (c) => c.json(need().info()))
    .get(STATS.pattern, doc(STATS, "Node resource snapshot"), auth, async (c) => c.json(await need().stats()))
    .get(CONTAINERS.pattern, doc(CONTAINERS, "Containers the node ran"), auth, (c) => {
      const q = parsed(CONTAINERS.query, c.req.query());
      const page = need().store.containers(q, offsetOf(q.page_token));
      const body: ContainerList = {
        version: 1,
        containers: page.containers,
        ...(page.next ? { next_page_token: page.next } : {}),
      };
      return c.json(body);
    })
    .get(CONTAINER.pattern, doc(CONTAINER, "One container", [404]), auth, (c) => {
      const container = need().store.container(c.req.param("id"));
      if (!container) throw new ProblemError(404, "Container not found");
      return c.json({ version: 1, container });
    })
    .get(LOGS.pattern, doc(LOGS, "Service or container logs"), auth, (c) => {
      const q = parsed(LOGS.query, c.req.query());
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
