import { afterEach, describe, expect, it } from "bun:test";
import { memoryLogger } from "../lib/log";
import { parseHead, serveSplice, type SpliceServer } from "./http-splice";
import { parseUpstream } from "./http-upstream";

const stops: (() => unknown)[] = [];
afterEach(() => {
  while (stops.length) stops.pop()!();
});

function spliceTo(fetch: (req: Request) => Response | Promise<Response>) {
  const upstream = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 0, fetch });
  const log = memoryLogger();
  const proxy: SpliceServer = serveSplice(
    { hostname: "127.0.0.1", port: 0 },
    { upstream: parseUpstream(upstream.url.origin), log },
  );
  stops.push(
    () => upstream.stop(true),
    () => proxy.stop(),
  );
  return { url: `http://127.0.0.1:${proxy.port}`, port: proxy.port!, log };
}

/** Sends raw bytes and reads the whole answer until the proxy closes the connection. */
async function raw(port: number, request: string): Promise<string> {
  let text = "";
  await new Promise<void>((resolve) =>
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open: (s) => {
          s.write(request);
        },
        data: (_s, d) => void (text += d.toString()),
        close: () => resolve(),
        end: (s) => {
          s.end();
        },
      },
    }),
  );
  return text;
}

describe("splice", () => {
  it("parses a head into its start line and headers, and refuses a malformed one", () => {
    const head = parseHead("GET /x HTTP/1.1\r\nHost: a\r\nX-Two: 1\r\nx-two: 2");
    expect(head?.start).toEqual(["GET", "/x", "HTTP/1.1"]);
    expect(head?.headers.get("x-two")).toBe("1, 2");
    expect(parseHead("GET / HTTP/1.1\r\nno colon here")).toBeUndefined();
    expect(parseHead("GET / HTTP/1.1\r\nbad name: 1")).toBeUndefined();
  });

  it("answers a malformed request or an oversized head with 400 problem+json, never reaching the upstream", async () => {
    let reached = 0;
    const { port } = spliceTo(() => {
      reached++;
      return new Response("no");
    });
    for (const request of [
      "NOT-HTTP\r\n\r\n",
      "GET relative HTTP/1.1\r\n\r\n",
      `GET / HTTP/1.1\r\nx: ${"y".repeat(70_000)}`,
    ]) {
      const answer = await raw(port, request);
      expect(answer).toStartWith("HTTP/1.1 400 Bad Request\r\n");
      expect(answer).toContain("content-type: application/problem+json");
    }
    expect(reached).toBe(0);
  });

  it("delivers a large answer intact to a client that reads slowly (backpressure, no loss)", async () => {
    const body = new Uint8Array(16 * 1024 * 1024).map((_, i) => i % 251);
    const { url } = spliceTo(() => new Response(body));
    const res = await fetch(url);
    const reader = res.body!.getReader();
    const parts: Uint8Array[] = [];
    for (let r = await reader.read(), n = 0; !r.done; r = await reader.read(), n++) {
      parts.push(r.value);
      if (n < 5) await Bun.sleep(100); // the proxy's buffers fill meanwhile
    }
    const got = Buffer.concat(parts);
    expect(got.byteLength).toBe(body.byteLength);
    expect(got.equals(Buffer.from(body))).toBe(true);
  }, 30_000);

  it("forwards a large request body intact, whatever the timing of its pieces", async () => {
    const body = new Uint8Array(8 * 1024 * 1024).map((_, i) => i % 253);
    const { url } = spliceTo(async (req) => new Response(String(Bun.hash(await req.arrayBuffer()))));
    const res = await fetch(url, { method: "POST", body });
    expect(await res.text()).toBe(String(Bun.hash(body)));
  }, 30_000);

  it("closes the upstream request when the client hangs up mid-stream", async () => {
    let upstreamAborted!: () => void;
    const aborted = new Promise<void>((r) => (upstreamAborted = r));
    const { url } = spliceTo((req) => {
      req.signal.addEventListener("abort", () => upstreamAborted());
      return new Response(
        new ReadableStream({
          start: (c) => c.enqueue(new TextEncoder().encode("first\n")), // and never more
        }),
      );
    });
    const ac = new AbortController();
    const res = await fetch(url, { signal: ac.signal });
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("first\n");
    ac.abort();
    await aborted;
  }, 30_000);
});
