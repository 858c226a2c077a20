import { afterEach, describe, expect, it } from "bun:test";
import { exists, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startListeners } from "./listeners";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

const hello = () => new Response("hello");

describe("startListeners", () => {
  it("replaces a stale socket, makes it connectable by any user and removes it on stop", async () => {
    const dir = await mkdtemp(join(tmpdir(), "proxy-listeners-"));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const socket = join(dir, "run", "proxy.sock");
    await Bun.write(socket, "stale file from a previous run");
    const listeners = await startListeners(hello, { socket, maxRequestBodySize: 1024 });
    expect(listeners.tcpUrl).toBeUndefined();
    const info = await stat(socket);
    expect(info.isSocket()).toBe(true);
    expect(info.mode & 0o777).toBe(0o666);
    expect(await (await fetch("http://localhost/", { unix: socket })).text()).toBe("hello");
    await listeners.stop();
    expect(await exists(socket)).toBe(false);
  });

  it("listens on TCP alone when no socket is given", async () => {
    const listeners = await startListeners(hello, { tcp: { hostname: "127.0.0.1", port: 0 }, maxRequestBodySize: 1024 });
    cleanup.push(() => listeners.stop());
    expect(listeners.socket).toBeUndefined();
    expect(await (await fetch(`${listeners.tcpUrl}/`)).text()).toBe("hello");
  });

  it("leaves Bun's own body cap above the proxy limit so the proxy answers 413 itself", async () => {
    const listeners = await startListeners(async (req) => new Response(String((await req.arrayBuffer()).byteLength)), {
      tcp: { hostname: "127.0.0.1", port: 0 },
      maxRequestBodySize: 10,
    });
    cleanup.push(() => listeners.stop());
    const res = await fetch(`${listeners.tcpUrl}/`, { method: "POST", body: new Uint8Array(1000) });
    expect(await res.text()).toBe("1000");
  });
});
