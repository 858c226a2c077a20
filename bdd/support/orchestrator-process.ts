/** Starts the real orchestrator (from source, or dist/bin/orchestrator with CYNODE_BDD_BINARIES=1) on a temp state dir. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const BOOTSTRAP_PASSWORD = "bdd-admin-password";
const root = resolve(import.meta.dir, "..", "..");

export type OrchestratorProcess = { gatewayUrl: string; controlPlaneUrl?: string; stop(): Promise<void> };

export function command(name: string): string[] {
  return process.env.CYNODE_BDD_BINARIES === "1" ? [join(root, "dist", "bin", name)] : ["bun", join(root, "src", name, "main.ts")];
}

export async function startOrchestrator(env: Record<string, string> = {}): Promise<OrchestratorProcess> {
  const stateDir = await mkdtemp(join(tmpdir(), "cynode-bdd-orch-"));
  const proc = Bun.spawn([...command("orchestrator"), "--state-dir", stateDir], {
    env: {
      ...process.env,
      USER_GATEWAY_LISTEN_ADDR: "127.0.0.1:0",
      CONTROL_PLANE_LISTEN_ADDR: "127.0.0.1:0",
      BOOTSTRAP_ADMIN_PASSWORD: BOOTSTRAP_PASSWORD,
      LOG_LEVEL: "info",
      ...env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const urls: Record<string, string> = {};
  let log = "";
  const reader = proc.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const deadline = Date.now() + 60_000;
  while (!urls.gateway) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`orchestrator did not start:\n${log}`);
    const { value, done } = await reader.read();
    if (done || value === undefined) throw new Error(`orchestrator exited:\n${log}`);
    log += value;
    for (const line of value.split("\n")) {
      const m = /"msg":"(user gateway|control-plane) listening".*"url":"([^"]+)"/.exec(line);
      if (m) urls[m[1] === "user gateway" ? "gateway" : "controlPlane"] = m[2]!.replace(/\/$/, "");
    }
  }
  // Keep draining so the child never blocks on a full pipe.
  void (async () => { while (!(await reader.read()).done); })();
  return {
    gatewayUrl: urls.gateway!,
    controlPlaneUrl: urls.controlPlane,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
