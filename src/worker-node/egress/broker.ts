/**
 * One restricted job's egress broker (decision 28): a Unix socket on the node, mounted into that job's sidecar only,
 * that takes the forward-proxy requests the sidecar passes on. Each is decided (egress-decision.ts) and either
 * refused with 403 `ext_net_required: …` or connected to the checked address: a CONNECT tunnel carries bytes both
 * ways untouched (TLS stays end to end); a plain request goes out in origin form, one request per connection. Every
 * attempt is recorded with its bytes each way and its duration (egress-records.ts).
 */
import { chmod, mkdir, rm } from "node:fs/promises";
import { connect, type Server, type Socket } from "node:net";
import { dirname } from "node:path";
import { egressRefusal, type EgressAttempt } from "../../contracts/egress";
import { formatHostEntry, parseHostEntry, type HostEntry } from "../../lib/egress-hosts";
import type { Logger } from "../../lib/log";
import { answerProblem, connectionServer, spliceSockets } from "../../lib/proxy-connections";
import { proxyTarget, readRequestHead, type ProxyTarget } from "../../lib/proxy-request";
import { decideEgress, type Resolve } from "./egress-decision";
import { createEgressRecords, type EgressLog, type EgressRecords } from "./egress-records";

export type EgressBroker = EgressLog & { socket: string; stop(): Promise<void> };

export type BrokerOptions = {
  socket: string;
  allowedHosts: readonly string[];
  log: Logger;
  resolve?: Resolve;
  connectTimeoutMs?: number;
  maxConnections?: number;
};

const CONNECT_TIMEOUT_MS = 10_000;
const MAX_CONNECTIONS = 64;
const ESTABLISHED = "HTTP/1.1 200 Connection Established\r\n\r\n";
/** Request headers meant for the proxy, or for the connection the sandbox opened to it. */
const PROXY_HEADERS = /^(proxy-connection|proxy-authorization|connection|keep-alive):/i;

/** A plain request's head as its destination gets it: origin form, proxy headers gone, one request per connection. */
export function originHead(head: string, target: Extract<ProxyTarget, { kind: "http" }>): string {
  const lines = head
    .split("\r\n")
    .slice(1)
    .filter((l) => !PROXY_HEADERS.test(l));
  if (!lines.some((l) => /^host:/i.test(l)))
    lines.unshift(`Host: ${formatHostEntry(target.port === 80 ? { host: target.host } : target)}`);
  return [`${target.method} ${target.path} HTTP/1.1`, ...lines, "Connection: close", "", ""].join("\r\n");
}

type Route = { host: string; port: number; first: Buffer; timeoutMs: number };

/** Connects to the checked address and splices both ways, counting the bytes; 502 when it cannot connect. */
function splice(client: Socket, attempt: EgressAttempt, route: Route): void {
  const upstream = connect({ host: route.host, port: route.port });
  upstream.setTimeout(route.timeoutMs, () => upstream.destroy(new Error("connect timed out")));
  spliceSockets(client, upstream, {
    first: route.first,
    opened() {
      upstream.setTimeout(0);
      if (attempt.kind === "connect") client.write(ESTABLISHED);
      attempt.bytes_sent += route.first.length;
      client.on("data", (b: Buffer) => void (attempt.bytes_sent += b.length));
      upstream.on("data", (b: Buffer) => void (attempt.bytes_received += b.length));
    },
    failed(err) {
      attempt.reason = `connection failed: ${err.message}`;
      answerProblem(client, 502, `${formatHostEntry(route)}: ${attempt.reason}`);
    },
  });
}

async function serve(client: Socket, o: BrokerOptions, entries: HostEntry[], records: EgressRecords): Promise<void> {
  const { head, rest } = await readRequestHead(client);
  const target = proxyTarget(head.split("\r\n", 1)[0]!);
  if (!target) return answerProblem(client, 400, "not a forward-proxy request");
  const { host, port, kind } = target;
  const attempt: EgressAttempt = {
    host,
    port,
    kind,
    decision: "allowed",
    bytes_sent: 0,
    bytes_received: 0,
    duration_ms: 0,
  };
  const record = records.open(attempt);
  client.on("close", record.end);
  const decision = await decideEgress(entries, host, port, o.resolve);
  if (!decision.allowed) {
    attempt.reason = decision.reason;
    if (decision.status === 502) return answerProblem(client, 502, decision.reason);
    attempt.decision = "refused";
    return answerProblem(client, 403, egressRefusal(formatHostEntry(target), decision.reason));
  }
  attempt.address = decision.address;
  const first = kind === "http" ? Buffer.concat([Buffer.from(originHead(head, target), "latin1"), rest]) : rest;
  splice(client, attempt, { host: decision.address, port, first, timeoutMs: o.connectTimeoutMs ?? CONNECT_TIMEOUT_MS });
}

/** Listens on the socket, which any local uid may open: the sidecar's root is an unprivileged host uid. */
async function listenOn(server: Server, socket: string): Promise<void> {
  await mkdir(dirname(socket), { recursive: true, mode: 0o711 });
  await rm(socket, { force: true });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(socket, resolve));
  await chmod(dirname(socket), 0o711);
  await chmod(socket, 0o666);
}

export async function startEgressBroker(o: BrokerOptions): Promise<EgressBroker> {
  const entries = o.allowedHosts.map(parseHostEntry).filter((e): e is HostEntry => e !== undefined);
  const records = createEgressRecords();
  const { server, stop } = connectionServer({
    maxConnections: o.maxConnections ?? MAX_CONNECTIONS,
    busy: "too many egress connections for this job",
    log: o.log,
    handle: (client) => serve(client, o, entries, records),
  });
  await listenOn(server, o.socket);
  return {
    socket: o.socket,
    attempts: records.attempts,
    refused: records.refused,
    async stop() {
      await stop();
      if (records.dropped) o.log.warn("egress attempts beyond the record cap", { dropped: records.dropped });
      await rm(o.socket, { force: true });
    },
  };
}
