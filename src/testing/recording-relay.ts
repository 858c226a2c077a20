/**
 * TEST SUPPORT: a TCP relay that records every byte it passes in both directions, to show what crosses a link in
 * clear (a capture on the wire between a node and the control-plane, without privileges).
 */
import type { Socket } from "bun";

export type RecordingRelay = {
  port: number;
  /** Everything relayed so far, both directions, in arrival order. */
  captured(): Buffer;
  stop(): void;
};

type Pair = { upstream?: Socket<undefined>; pending: Buffer[] };

export async function startRecordingRelay(
  target: { hostname: string; port: number },
  port = 0,
): Promise<RecordingRelay> {
  const chunks: Buffer[] = [];
  const pairs = new Map<Socket<Pair>, Pair>();
  const listener = Bun.listen<Pair>({
    hostname: "127.0.0.1",
    port,
    socket: {
      async open(client) {
        const pair: Pair = { pending: [] };
        client.data = pair;
        pairs.set(client, pair);
        pair.upstream = await Bun.connect({
          ...target,
          socket: {
            data(_, bytes) {
              chunks.push(Buffer.from(bytes));
              client.write(bytes);
            },
            close: () => void client.end(),
            error: () => void client.end(),
          },
        }).catch(() => {
          client.end();
          return undefined;
        });
        for (const b of pair.pending.splice(0)) pair.upstream?.write(b);
      },
      data(client, bytes) {
        chunks.push(Buffer.from(bytes));
        if (client.data.upstream) client.data.upstream.write(bytes);
        else client.data.pending.push(Buffer.from(bytes));
      },
      close(client) {
        client.data.upstream?.end();
        pairs.delete(client);
      },
    },
  });
  return {
    port: listener.port,
    captured: () => Buffer.concat(chunks),
    stop() {
      for (const [client, pair] of pairs) {
        pair.upstream?.end();
        client.end();
      }
      listener.stop(true);
    },
  };
}

/** How often `needle` occurs in `haystack`. */
export function occurrences(haystack: Buffer, needle: string): number {
  let n = 0;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) n++;
  return n;
}
