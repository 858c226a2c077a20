/**
 * Starts the real orchestrator (source, or dist/bin with CYNODE_BDD_BINARIES=1) on a temp state dir: on its own
 * embedded Postgres, or on a fresh database of the server POSTGRES_TEST_DSN names.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase } from "../../src/testing/test-db";
import { command, freePort, logField, startProcess, type ManagedProcess } from "./managed-process";

export const BOOTSTRAP_PASSWORD = "bdd-admin-password";
export const NODE_PSK = "bdd-node-registration-psk";

export type OrchestratorProcess = {
  gatewayUrl: string;
  controlPlaneUrl: string;
  process: ManagedProcess;
  /** What a restart on the same state (fault tests) passes back in. */
  restart: { stateDir: string; controlPlanePort: number; env: Record<string, string> };
  stop(): Promise<void>;
};

/** `again`: start on a killed orchestrator's state dir, port and database; the state dir is then the caller's to remove. */
export async function startOrchestrator(
  env: Record<string, string> = {},
  again?: OrchestratorProcess["restart"],
): Promise<OrchestratorProcess> {
  const stateDir = again?.stateDir ?? (await mkdtemp(join(tmpdir(), "cynode-bdd-orch-")));
  // Nodes are told where to fetch their config before the control-plane listens, so its port is chosen here.
  const cpPort = again?.controlPlanePort ?? (await freePort());
  const database = process.env.POSTGRES_TEST_DSN && !again ? await createTestDatabase() : undefined;
  if (database) env = { ...env, DATABASE_URL: database.url };
  if (again) env = { ...again.env, ...env };
  const proc = startProcess("orchestrator", [...command("orchestrator"), "--state-dir", stateDir], {
    env: {
      USER_GATEWAY_LISTEN_ADDR: "127.0.0.1:0",
      CONTROL_PLANE_LISTEN_ADDR: `127.0.0.1:${cpPort}`,
      ORCHESTRATOR_PUBLIC_URL: `http://127.0.0.1:${cpPort}`,
      BOOTSTRAP_ADMIN_PASSWORD: BOOTSTRAP_PASSWORD,
      NODE_REGISTRATION_PSK: NODE_PSK,
      DISPATCH_POLL_INTERVAL: "200ms",
      LOG_LEVEL: "info",
      ...env,
    },
  });
  const stop = async () => {
    await proc.stop();
    await database?.drop();
    if (!again) await rm(stateDir, { recursive: true, force: true });
  };
  try {
    const gateway = await proc.waitForLine(/"msg":"user gateway listening"/);
    const controlPlane = await proc.waitForLine(/"msg":"control-plane listening"/);
    return {
      gatewayUrl: logField(gateway, "url").replace(/\/$/, ""),
      controlPlaneUrl: logField(controlPlane, "url").replace(/\/$/, ""),
      process: proc,
      restart: { stateDir, controlPlanePort: cpPort, env },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
