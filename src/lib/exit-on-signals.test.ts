import { describe, expect, it } from "bun:test";
import { join } from "node:path";

/** Runs a process that starts a fake service with exitOnSignals, signals it, and reports how it ended. */
async function signalled(startMs: number, stopFails = false, stopHangs = false) {
  const script = `
    import { exitOnSignals } from ${JSON.stringify(join(import.meta.dir, "exit-on-signals.ts"))};
    import { createLogger } from ${JSON.stringify(join(import.meta.dir, "log.ts"))};
    const log = createLogger({ name: "t", write: (l) => console.log(l) });
    const running = Bun.sleep(${startMs}).then(() => ({ async stop() { console.log("stopped"); if (${stopFails}) throw new Error("stuck"); if (${stopHangs}) await Bun.sleep(60_000); } }));
    exitOnSignals(log, running, 500);
    console.log("installed");
    await running;
    await Bun.sleep(60_000);
  `;
  const p = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe" });
  const reader = p.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("installed")) out += (await reader.read()).value ?? "";
  p.kill("SIGTERM");
  for (let r = await reader.read(); !r.done; r = await reader.read()) out += r.value;
  return { code: await p.exited, out };
}

describe("exitOnSignals", () => {
  it("stops a service whose start-up is still running when the signal arrives, then exits 0", async () => {
    const { code, out } = await signalled(300);
    expect(code).toBe(0);
    expect(out).toContain('"msg":"shutting down","signal":"SIGTERM"');
    expect(out).toContain("stopped");
  });

  it("exits 1 when stopping fails", async () => {
    const { code, out } = await signalled(0, true);
    expect(code).toBe(1);
    expect(out).toContain('"msg":"shutdown failed"');
  });

  it("exits 1 at its deadline when stopping hangs", async () => {
    const { code, out } = await signalled(0, false, true);
    expect(code).toBe(1);
    expect(out).toContain('"msg":"shutdown timed out","deadline_ms":500');
  });
});
