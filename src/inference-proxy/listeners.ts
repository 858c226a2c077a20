/** Serves the proxy on TCP and/or a Unix socket; the socket replaces a stale one and is world-connectable, since the
 * directory it lives in (mounted into one sandbox only) is what limits who reaches it. */
import { chmod, mkdir, rm } from "node:fs/promises";
import { dirname } from "node:path";
import type { ListenAddress } from "../lib/serve";
import { serveSplice, type SpliceOptions, type SpliceServer } from "../lib/http-splice";

export type Listeners = { tcpUrl?: string; socket?: string; stop(): Promise<void> };

export type ListenerOptions = { tcp?: ListenAddress; socket?: string };

export async function startListeners(proxy: SpliceOptions, opts: ListenerOptions): Promise<Listeners> {
  const tcp = opts.tcp ? serveSplice(opts.tcp, proxy) : undefined;
  let unix: SpliceServer | undefined;
  if (opts.socket) {
    await mkdir(dirname(opts.socket), { recursive: true });
    await rm(opts.socket, { force: true });
    unix = serveSplice({ unix: opts.socket }, proxy);
    await chmod(opts.socket, 0o666);
  }
  return {
    tcpUrl: tcp ? `http://${tcp.hostname}:${tcp.port}` : undefined,
    socket: opts.socket,
    async stop() {
      tcp?.stop();
      unix?.stop();
      if (opts.socket) await rm(opts.socket, { force: true });
    },
  };
}
