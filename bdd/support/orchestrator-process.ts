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
  stateDir: string;
  controlPlanePort: number;
  gatewayUrl: string;
  controlPlaneUrl: string;
  process: ManagedProcess;
  /** Its environment (with the database it was given): a restart on the same state passes it back in. */
  env: Record<string, string>;
  stop(): Promise<void>;
};

export type OrchestratorOptions = {
  /** Its own embedded Postgres even when POSTGRES_TEST_DSN names a server. */
  embedded?: boolean;
  /** Restart on this state dir (kept at stop: its owner removes it) and control-plane port. */
  stateDir?: string;
  controlPlanePort?: number;
};

export async function startOrchestrator(
  env: Record<string, string> = {},
  opts: OrchestratorOptions = {},
): Promise<OrchestratorProcess> {
  const stateDir = opts.stateDir ?? (await mkdtemp(join(tmpdir(), "cynode-bdd-orch-")));
  // Nodes are told where to fetch their config before the control-plane listens, so its port is chosen here.
  const cpPort = opts.controlPlanePort ?? (await freePort());
  const ownDatabase = process.env.POSTGRES_TEST_DSN && !opts.embedded && !env.DATABASE_URL;
  const database = ownDatabase ? await createTestDatabase() : undefined;
  if (database) env = { ...env, DATABASE_URL: database.url };
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
    if (!opts.stateDir) await rm(stateDir, { recursive: true, force: true });
  };
  try {
    const gateway = await proc.waitForLine(/"msg":"user gateway listening"/);
    const controlPlane = await proc.waitForLine(/"msg":"control-plane listening"/);
    return {
      stateDir,
      controlPlanePort: cpPort,
      gatewayUrl: logField(gateway, "url").replace(/\/$/, ""),
      controlPlaneUrl: logField(controlPlane, "url").replace(/\/$/, ""),
      process: proc,
      env,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
