import { beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { readdir } from "node:fs/promises";
import { WORKSPACE_DIR, createJobDirs } from "./job-sandbox";
import { NODE_LABEL } from "./job-sandbox";
import { WARM_LABEL } from "./warm-sandboxes";
import { afterMark, startSandbox } from "./sandbox";
import { toolChannel, toolLoopLauncher } from "../agent/tool-channel";
import {
  ensureSandboxImage,
  SANDBOX_IMAGE,
  testPodman,
  testSettings,
  warmContainers,
} from "../../testing/sandbox-fixture";

// Real containers on a shared, busy host.
setDefaultTimeout(120_000);
const podman = testPodman();

beforeAll(() => ensureSandboxImage(podman));

describe("a warm sandbox's own deadline", () => {
  /** A sandbox as the pool starts it: no job yet, so no podman deadline. */
  async function warmSandbox(image = SANDBOX_IMAGE) {
    const settings = await testSettings();
    const id = `warm-${crypto.randomUUID()}`;
    return {
      settings,
      start: startSandbox(podman, {
        name: `cynodeai-${id}`,
        image,
        labels: { [NODE_LABEL]: settings.nodeSlug, [WARM_LABEL]: "1" },
        limits: settings.limits,
        workdir: WORKSPACE_DIR,
        workspaceMb: 16,
        dirs: await createJobDirs(settings.mountRoot, id),
      }),
    };
  }

  it("dies at its job's timeout with no worker killing it", async () => {
    const { settings, start } = await warmSandbox();
    const warm = await start;
    try {
      const outcome = await warm.run({ command: ["sh", "-c", "echo go; sleep 120"], env: {}, timeoutSeconds: 1 }, 1024);
      expect(outcome).toMatchObject({ exitCode: 137, stdout: { text: "go\n" } });
      expect(await warm.exited).toBe(137);
    } finally {
      await warm.dispose();
    }
    expect(await warmContainers(podman, settings.nodeSlug)).toEqual([]);
  });

  it("ends its tool loop when the worker is done before the loop has even begun (a final answer at once)", async () => {
    const { start } = await warmSandbox();
    const warm = await start;
    try {
      // The loop's shell opens `in` only after its `before` lines: the worker's channel is closed long before that.
      toolChannel(await warm.serve(toolLoopLauncher({ env: {}, timeoutSeconds: 60, before: ["sleep 1"] }))).close();
      expect(await warm.exited).toBe(0);
    } finally {
      await warm.dispose();
    }
  });

  it("reports podman's own failure instead of a ready mark, and leaves nothing behind", async () => {
    const { settings, start } = await warmSandbox("localhost/cynode-no-such-image:latest");
    await expect(start).rejects.toThrow("cynode-no-such-image");
    expect(await warmContainers(podman, settings.nodeSlug)).toEqual([]);
    expect(await readdir(settings.mountRoot)).toEqual([]);
  });
});

describe("afterMark", () => {
  const stream = (...chunks: string[]) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        for (const s of chunks) c.enqueue(new TextEncoder().encode(s));
        c.close();
      },
    });
  it("passes on what follows the mark, across chunk boundaries", async () => {
    expect(await new Response(await afterMark(stream("rea", "dy\nout", "put"), "ready\n")).text()).toBe("output");
  });
  it("fails with what came instead, or when the stream ends first", async () => {
    await expect(afterMark(stream("Error: no such ", "image"), "ready\n")).rejects.toThrow("Error: no such image");
    await expect(afterMark(stream("rea"), "ready\n")).rejects.toThrow("rea");
  });
});
