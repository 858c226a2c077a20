import { describe, expect, it } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startListeners } from "./listeners";

describe("listeners", () => {
  it("keeps a request open past Bun's default 10 s idle timer, on TCP and on the Unix socket", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cynode-listen-"));
    const socket = join(dir, "proxy.sock");
    // A model that thinks for 11 s before its first byte.
    const l = await startListeners(async () => (await Bun.sleep(11_000), new Response("late but whole")), {
      tcp: { hostname: "127.0.0.1", port: 0 },
      socket,
      maxRequestBodySize: 1024,
    });
    try {
      const [tcp, unix] = await Promise.all([
        fetch(`${l.tcpUrl}/api/generate`).then((r) => r.text()),
        fetch("http://proxy/api/generate", { unix: socket }).then((r) => r.text()),
      ]);
      expect([tcp, unix]).toEqual(["late but whole", "late but whole"]);
    } finally {
      await l.stop();
      await rm(dir, { recursive: true, force: true });
    }
    expect(await Bun.file(socket).exists()).toBe(false);
  }, 30_000);
});
