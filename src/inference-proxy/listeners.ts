/** Serves the proxy on TCP and/or a Unix socket; the socket replaces a stale one and is world-connectable, since the
 * directory it lives in (mounted into one sandbox only) is what limits who reaches it. */
import { chmod, mkdir, rm } from "node:fs/promises";
import { dirname } from "node:path";
import type { ListenAddress } from "../lib/serve";

export type Listeners = { tcpUrl?: string; socket?: string; stop(): Promise<void> };

export type ListenerOptions = { tcp?: ListenAddress; socket?: string; maxRequestBodySize: number };

export async function startListeners(fetch: (req: Request) => Response | Promise<Response>, opts: ListenerOptions): Promise<Listeners> {
  // Bun's own cap sits above the proxy's limit so oversized bodies get the proxy's 413 problem, not a reset.
  // Bun's 10 s idle timer would cut a streamed reply while the model pauses between tokens: the proxy's own
  // per-request deadline governs instead. (Bun's types offer idleTimeout only with a port; it applies to Unix sockets too.)
  const common = { fetch, maxRequestBodySize: opts.maxRequestBodySize + 1024 * 1024, ...({ idleTimeout: 0 } as object) };
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
