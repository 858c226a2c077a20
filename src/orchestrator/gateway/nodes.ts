/**
 * The admin's nodes (decision 25): `GET /v1/nodes` lists every node with its liveness (the one rule, `liveNodes`),
 * capacity and models; `POST /v1/nodes/{slug}/reset` forgets a node's key and ends its tokens, so the next
 * registration with the PSK binds the slug again (a node whose state dir was lost rejoins this way). Audited.
 */
import { Hono } from "hono";
import type { NodeCapabilityReport } from "../../contracts/node-payloads";
import { USER_API, USER_API_SCOPES } from "../../contracts/routes";
import type { NodeView } from "../../contracts/user-api";
import { ProblemError } from "../../lib/http-problem";
import { describeRoute } from "../../lib/openapi";
import { rfc3339 } from "../../lib/rfc3339";
import { runningJobCounts } from "../db/job-queue";
import { latestCapabilities, listNodes, liveNodes, resetNodeIdentity } from "../db/nodes";
import type { Node } from "../db/schema";
import { DEFAULT_MAX_CONCURRENCY, slotCapacity } from "../dispatch/fill-slots";
import { auditRequest } from "./request-audit";
import { requireUser, type GatewayEnv, type GatewayRouteDeps } from "./require-user";
import { requireAdmin } from "./users";

const tags = ["nodes"];

type Facts = { live: Set<string>; reports: Map<string, NodeCapabilityReport>; running: Map<string, number> };

const nodeView = (node: Node, f: Facts): NodeView => {
  const report = f.reports.get(node.id);
  return {
    node_slug: node.node_slug,
    status: node.status,
    live: f.live.has(node.id),
    last_seen_at: node.last_seen_at ? rfc3339(node.last_seen_at) : null,
    worker_api_url: node.worker_api_target_url,
    capacity: {
      max_concurrency: slotCapacity(report, DEFAULT_MAX_CONCURRENCY),
      running: f.running.get(node.id) ?? 0,
    },
    models: report?.inference?.running ? (report.inference.available_models ?? []) : [],
    key_bound: Boolean(node.key_thumbprint),
  };
};

async function factsOf({ db, now }: GatewayRouteDeps, nodes: Node[]): Promise<Facts> {
  const [live, reports, running] = await Promise.all([
    liveNodes(db, { now: now() }),
    latestCapabilities(
      db,
      nodes.map((n) => n.id),
    ),
    runningJobCounts(db),
  ]);
  return { live: new Set(live.map((n) => n.id)), reports, running };
}

export function nodeAdminRoutes(deps: GatewayRouteDeps) {
  const { listNodes: LIST, resetNode: RESET } = USER_API;
  return new Hono<GatewayEnv>()
    .use(LIST.pattern, requireUser(deps.tokens))
    .use(USER_API_SCOPES.nodes, requireUser(deps.tokens))
    .get(
      LIST.pattern,
      describeRoute(LIST, { summary: "Every node (admin)", tags, problems: [401, 403] }),
      async (c) => {
        requireAdmin(c.get("user"));
        const nodes = await listNodes(deps.db);
        const facts = await factsOf(deps, nodes);
        return c.json({ nodes: nodes.map((n) => nodeView(n, facts)) });
      },
    )
    .post(
      RESET.pattern,
      describeRoute(RESET, {
        summary: "Forget a node's key and end its tokens; its next registration binds again (admin)",
        tags,
        problems: [401, 403, 404],
      }),
      async (c) => {
        const caller = c.get("user");
        requireAdmin(caller);
        const slug = c.req.param("slug");
        const node = await resetNodeIdentity(deps.db, slug, deps.now());
        if (!node) throw new ProblemError(404, "Node not found");
        await auditRequest(deps.db, c, {
          event: "node_reset",
          success: true,
          userId: caller.id,
          handle: caller.handle,
          reason: `node ${slug} reset by ${caller.handle}`,
        });
        deps.log.info("node identity reset", { node_slug: slug, by: caller.handle });
        return c.json(nodeView(node, await factsOf(deps, [node])));
      },
    );
}
