/** Nodes (admin): each registered node's liveness, capacity, models and last report, refreshed every 5 s. */
import { USER_API } from "../../contracts/routes";
import type { NodeView } from "../../contracts/user-api";
import { adminOnly } from "../admin-only";
import type { GatewaySession } from "../gateway-session";
import { usePolling } from "../use-async";
import { OnOffText } from "./status-text";
import { PageCard } from "../page-card";

const REFRESH_MS = 5_000;

function NodeRow({ node }: { node: NodeView }) {
  return (
    <li>
      <strong>{node.node_slug}</strong>
      <OnOffText on={node.live} words={["live", "not live"]} off="failed" />
      <span>
        {node.capacity.running} of {node.capacity.max_concurrency} jobs running
      </span>
      <span class="hint">models: {node.models.length ? node.models.join(", ") : "none"}</span>
      <span class="hint">
        last seen: {node.last_seen_at ? new Date(node.last_seen_at).toLocaleString() : "never"} · {node.status}
        {node.key_bound ? " · key bound" : ""}
      </span>
    </li>
  );
}

export function NodesPage({ session }: { session: GatewaySession }) {
  const nodes = usePolling(
    (signal) => session.send({ route: USER_API.listNodes, signal }).catch(adminOnly("see the nodes")),
    REFRESH_MS,
    [],
  );
  return (
    <PageCard title="Nodes" error={nodes.error}>
      {nodes.value && nodes.value.nodes.length === 0 && <p>No node has registered.</p>}
      <ul class="list" aria-label="Nodes">
        {nodes.value?.nodes.map((n) => (
          <NodeRow key={n.node_slug} node={n} />
        ))}
      </ul>
    </PageCard>
  );
}
