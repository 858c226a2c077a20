/**
 * The socket plumbing the egress sidecar and the node's broker share: a server that caps its open connections and
 * closes them all at stop, a problem+json answer that ends a connection, and a splice of a client onto a connection
 * being opened (what came before it is sent first; a failure before it opened is the caller's to answer).
 */
import { createServer, type Server, type Socket } from "node:net";
import type { ProblemStatus } from "../contracts/problem";
import { answerBytes, problemAnswer } from "./http-splice";
import type { Logger } from "./log";

export const answerProblem = (client: Socket, status: ProblemStatus, detail: string) =>
  void client.end(answerBytes(problemAnswer(status, detail)));

export type ConnectionServer = { server: Server; stop(): Promise<void> };

export function connectionServer(o: {
  maxConnections: number;
  /** The 503 detail past the cap. */
  busy: string;
  log: Logger;
  handle(client: Socket): Promise<void>;
}): ConnectionServer {
  const clients = new Set<Socket>();
  const server = createServer((client) => {
    clients.add(client);
    client.on("close", () => clients.delete(client)).on("error", () => {});
    if (clients.size > o.maxConnections) return answerProblem(client, 503, o.busy);
    o.handle(client).catch((err: Error) => {
      o.log.debug("proxy connection dropped", { error: err.message });
      client.destroy();
    });
  });
  return {
    server,
    async stop() {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const c of clients) c.destroy();
      await closed;
    },
  };
}

export type SpliceHooks = {
  /** Sent to the upstream once it is open, before the client's further bytes. */
  first: Buffer;
  /** Told once the upstream is open, before anything is sent (e.g. to answer a CONNECT). */
  opened?(): void;
  /** The upstream could not be opened. */
  failed(err: Error): void;
};

/** Splices `client` onto `upstream` (still connecting) both ways; either closing ends the other. */
export function spliceSockets(client: Socket, upstream: Socket, hooks: SpliceHooks): void {
  // The client may have gone while its destination was decided: nothing is opened for it then.
  if (client.destroyed) return void upstream.destroy();
  let open = false;
  upstream.once("connect", () => {
    open = true;
    hooks.opened?.();
    upstream.write(hooks.first);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  upstream.on("error", (err) => (open ? client.destroy() : hooks.failed(err)));
  upstream.on("close", () => client.end());
  client.on("close", () => upstream.destroy());
}
