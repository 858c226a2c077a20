import { describe, expect, it } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memoryLogger } from "../lib/log";
import { startListeners } from "./listeners";
import { createProxy } from "./proxy-app";
import { parseUpstream } from "../lib/http-upstream";

describe("listeners", () => {
  it("keeps a stream open across a pause longer than Bun's default 10 s idle timer, on TCP and on the socket", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cynode-listen-"));
    const socket = join(dir, "proxy.sock");
    // A model streaming its reply that pauses 14 s between two chunks (Bun checks its idle timer coarsely).
    const enc = new TextEncoder();
    const slowStream = () =>
      new Response(
        new ReadableStream({
          async start(c) {
            c.enqueue(enc.encode("first\n"));
            await Bun.sleep(14_000);
            c.enqueue(enc.encode("second\n"));
            c.close();
          },
        }),
      );
    // The upstream has no idle timer of its own: what is tested is the proxy's.
    const upstream = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 0, fetch: slowStream });
    const proxy = createProxy({ upstream: parseUpstream(upstream.url.origin), log: memoryLogger(), allowedModels: [] });
    const l = await startListeners(proxy, {
      tcp: { hostname: "127.0.0.1", port: 0 },
      socket,
    });
    try {
      // The client runs in its own process, as a sandbox's would (in-process, Bun never idles the connection).
      const fetchIn = async (url: string, unix?: string) => {
        const code = `const r = await fetch(${JSON.stringify(url)}, ${JSON.stringify(unix ? { unix } : {})}); process.stdout.write(await r.text());`;
        const p = Bun.spawn([process.execPath, "-e", code], { stdout: "pipe", stderr: "ignore" });
        return new Response(p.stdout).text();
      };
      const [tcp, unix] = await Promise.all([
        fetchIn(`${l.tcpUrl}/api/version`),
        fetchIn("http://proxy/api/version", socket),
      ]);
      expect([tcp, unix]).toEqual(["first\nsecond\n", "first\nsecond\n"]);
    } finally {
      await l.stop();
      await upstream.stop(true);
      await rm(dir, { recursive: true, force: true });
    }
    expect(await Bun.file(socket).exists()).toBe(false);
  }, 30_000);
});
