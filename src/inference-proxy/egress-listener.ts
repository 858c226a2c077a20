/**
 * The sidecar's second listener (decision 28): the sandbox's HTTP(S) proxy on its pod's 127.0.0.1:3128. It checks
 * only that a connection opens with a forward-proxy request (`CONNECT host:port` or an absolute `http://` URL) and
 * passes it, and every byte after it, to the node's egress broker over the Unix socket only this sidecar mounts:
 * the node decides, resolves and connects; nothing here has a network or a resolver.
 */
import { connect, type Socket } from "node:net";
import type { Logger } from "../lib/log";
import { answerProblem, connectionServer, spliceSockets } from "../lib/proxy-connections";
import { proxyTarget, readRequestHead } from "../lib/proxy-request";
import type { ListenAddress } from "../lib/serve";

/** Connections one sidecar's egress listener holds at once. */
export const MAX_EGRESS_CONNECTIONS = 64;
const NOT_PROXY = "this is an HTTP proxy: send CONNECT host:port or an absolute http:// URL";

export type EgressListenerOptions = {
  listen: ListenAddress;
  /** The node's broker for this job. */
  upstreamSocket: string;
  log: Logger;
  maxConnections?: number;
};

export type EgressListener = { url: string; stop(): Promise<void> };

async function relay(client: Socket, upstreamSocket: string): Promise<void> {
  const { head, rest } = await readRequestHead(client);
  if (!proxyTarget(head.split("\r\n", 1)[0]!)) return answerProblem(client, 400, NOT_PROXY);
  spliceSockets(client, connect(upstreamSocket), {
    first: Buffer.concat([Buffer.from(`${head}\r\n\r\n`, "latin1"), rest]),
    failed: (err) => answerProblem(client, 502, `the node's egress broker: ${err.message}`),
  });
}

export async function startEgressListener(o: EgressListenerOptions): Promise<EgressListener> {
  const { server, stop } = connectionServer({
    maxConnections: o.maxConnections ?? MAX_EGRESS_CONNECTIONS,
    busy: "too many egress connections from this sandbox",
    log: o.log,
    handle: (client) => relay(client, o.upstreamSocket),
  });
  await new Promise<void>((resolve, reject) =>
    server.once("error", reject).listen(o.listen.port, o.listen.hostname, resolve),
  );
  const { address, port } = server.address() as { address: string; port: number };
  return { url: `http://${address}:${port}`, stop };
}

/** The listener the configuration asks for (EGRESS_PROXY_LISTEN with EGRESS_UPSTREAM_SOCKET), if any. */
export const startConfiguredEgress = (
  c: { EGRESS_PROXY_LISTEN?: ListenAddress; EGRESS_UPSTREAM_SOCKET?: string },
  log: Logger,
) =>
  c.EGRESS_PROXY_LISTEN && c.EGRESS_UPSTREAM_SOCKET
    ? startEgressListener({ listen: c.EGRESS_PROXY_LISTEN, upstreamSocket: c.EGRESS_UPSTREAM_SOCKET, log })
    : undefined;
