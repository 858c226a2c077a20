import { afterEach, describe, expect, it } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { healthcheck } from "./healthcheck";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

function serve(fetch: (req: Request) => Response | Promise<Response>, unix?: string) {
  const server = unix ? Bun.serve({ unix, fetch }) : Bun.serve({ hostname: "127.0.0.1", port: 0, fetch });
  cleanup.push(() => server.stop(true));
  return server;
}

describe("healthcheck", () => {
  it("exits 0 on HTTP 200", async () => {
    const s = serve(
      (req) =>
        new Response(new URL(req.url).pathname === "/healthz" ? "ok" : "no", {
          status: new URL(req.url).pathname === "/healthz" ? 200 : 404,
        }),
    );
    expect(await healthcheck(`http://127.0.0.1:${s.port}/healthz`)).toBe(0);
    expect(await healthcheck(`http://127.0.0.1:${s.port}/other`)).toBe(1);
  });

  it("exits 1 on any other status, including redirects", async () => {
    const s = serve(() => new Response(null, { status: 302, headers: { location: "/healthz" } }));
    expect(await healthcheck(`http://127.0.0.1:${s.port}/`)).toBe(1);
  });

  it("exits 1 when nothing listens or the URL is bad", async () => {
    const s = serve(() => new Response("ok"));
    const url = `http://127.0.0.1:${s.port}/healthz`;
    await s.stop(true);
    expect(await healthcheck(url)).toBe(1);
    expect(await healthcheck("not a url")).toBe(1);
  });

  it("exits 1 when the answer takes longer than the timeout", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    cleanup.push(async () => release());
    const s = serve(async () => {
      await held;
      return new Response("late");
    });
    expect(await healthcheck(`http://127.0.0.1:${s.port}/healthz`, 50)).toBe(1);
  });

  it("checks /healthz over a Unix socket given as unix:/path", async () => {
    const dir = await mkdtemp(join(tmpdir(), "proxy-health-"));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const socket = join(dir, "p.sock");
    serve((req) => new Response("ok", { status: new URL(req.url).pathname === "/healthz" ? 200 : 404 }), socket);
    expect(await healthcheck(`unix:${socket}`)).toBe(0);
  });
});
