/** Serves the proxy on TCP and/or a Unix socket; the socket replaces a stale one and is world-connectable, since the
 * directory it lives in (mounted into one sandbox only) is what limits who reaches it. */
import { chmod, mkdir, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { MAX_SAFE_BODY, type ListenAddress } from "../lib/serve";

export type Listeners = { tcpUrl?: string; socket?: string; stop(): Promise<void> };

export type ListenerOptions = { tcp?: ListenAddress; socket?: string };

export async function startListeners(
  fetch: (req: Request) => Response | Promise<Response>,
  opts: ListenerOptions,
): Promise<Listeners> {
  // The proxy's body limit answers oversized bodies with its 413 problem; Bun's own cap must never pre-empt it.
  // Bun's 10 s idle timer would cut a streamed reply while the model pauses between tokens: the proxy's own
  // per-request deadline governs instead. (Bun's types offer idleTimeout only with a port; it applies to Unix sockets too.)
  const common = { fetch, maxRequestBodySize: MAX_SAFE_BODY, ...({ idleTimeout: 0 } as object) };
  const tcp = opts.tcp ? Bun.serve({ ...common, hostname: opts.tcp.hostname, port: opts.tcp.port }) : undefined;
  let unix: ReturnType<typeof Bun.serve> | undefined;
  if (opts.socket) {
    await mkdir(dirname(opts.socket), { recursive: true });
    await rm(opts.socket, { force: true });
    unix = Bun.serve({ ...common, unix: opts.socket });
    await chmod(opts.socket, 0o666);
  }
  return {
    tcpUrl: tcp ? `http://${tcp.hostname}:${tcp.port}` : undefined,
    socket: opts.socket,
    async stop() {
      await Promise.all([tcp?.stop(true), unix?.stop(true)]);
      if (opts.socket) await rm(opts.socket, { force: true });
    },
  };
}
