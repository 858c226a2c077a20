/**
 * Start-up: the orchestrator answering /healthz on an existing embedded data dir, vs the floor: the same
 * Postgres server starting on the same data dir by itself.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { command } from "../bdd/support/orchestrator-process";
import { createLogger } from "../src/lib/log";
import { startEmbeddedPostgres } from "../src/orchestrator/db/embedded-postgres";
import { compare, type Comparison } from "./harness";

async function orchestratorReady(stateDir: string): Promise<number> {
  const t = performance.now();
  const p = Bun.spawn([...command("orchestrator"), "--state-dir", stateDir], {
    env: { ...process.env, USER_GATEWAY_LISTEN_ADDR: "127.0.0.1:0", CONTROL_PLANE_LISTEN_ADDR: "127.0.0.1:0", BOOTSTRAP_ADMIN_PASSWORD: "bench", LOG_LEVEL: "info" },
    stderr: "pipe",
  });
  const reader = p.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let log = "";
  for (let m; !m; m = /"msg":"user gateway listening".*"url":"([^"]+)"/.exec(log)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`orchestrator exited:\n${log}`);
    log += value;
  }
  const ms = performance.now() - t;
  void (async () => { while (!(await reader.read()).done); })(); // keep draining: a closed pipe would kill it
  p.kill("SIGTERM");
  await p.exited;
  return ms;
}

export async function startupBench(runs: number): Promise<Comparison> {
  const stateDir = await mkdtemp(join(tmpdir(), "cynode-bench-start-"));
  const log = createLogger({ name: "bench", level: "error" });
  try {
    await orchestratorReady(stateDir); // first start: unpack, initdb, migrate — not measured
    return await compare("start-up: orchestrator /healthz on an existing data dir vs its Postgres alone", {
      runs,
      system: () => orchestratorReady(stateDir),
      baseline: async () => {
        const t = performance.now();
        const pg = await startEmbeddedPostgres({ stateDir, log });
        const ms = performance.now() - t;
        await pg.stop();
        return ms;
      },
    });
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
}
