/** How a node prints (`nodes list`, `nodes reset`): the gateway's own fields, in this order. */
export const NODE_LINE = {
  keys: ["node_slug", "status", "live", "capacity", "models", "last_seen_at", "key_bound", "worker_api_url"],
};
