import { describe, expect, it } from "bun:test";
import { connect, Socket } from "node:net";
import { memoryLogger } from "./log";
import { connectionServer, spliceSockets } from "./proxy-connections";

describe("proxy connections", () => {
  it("open nothing for a client that is already gone", () => {
    const client = new Socket();
    client.destroy();
    const upstream = new Socket();
    spliceSockets(client, upstream, { first: Buffer.alloc(0), failed: () => {} });
    expect(upstream.destroyed).toBe(true);
  });

  it("close a connection whose handler fails, and log why", async () => {
    const log = memoryLogger();
    const { server, stop } = connectionServer({
      maxConnections: 4,
      busy: "busy",
      log,
      handle: async () => {
        throw new Error("handler broke");
      },
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const s = connect((server.address() as { port: number }).port, "127.0.0.1");
    await new Promise((resolve) => s.once("close", resolve));
    expect(log.lines).toContainEqual(
      expect.objectContaining({ msg: "proxy connection dropped", error: "handler broke" }),
    );
    await stop();
  });
});
