/** Builds and starts every part of the orchestrator from a validated config; `stop()` undoes it in reverse. */
import type { Logger } from "../lib/log";
import { serveApp, type Served } from "../lib/serve";
import { bootstrapAdmin } from "./auth/bootstrap-admin";
import { createLoginLimiter } from "./auth/login-limiter";
import { createTokens } from "./auth/tokens";
import type { OrchestratorConfig } from "./config";
import { openDatabase } from "./db/open-database";
import { createGateway } from "./gateway/app";
import { checkReadiness } from "./readiness";
import { readOrCreateSecret } from "./state-secrets";

export type RunningOrchestrator = { gateway: Served; stop(): Promise<void> };

export async function startOrchestrator(config: OrchestratorConfig, log: Logger, io: { announce: (line: string) => void }): Promise<RunningOrchestrator> {
  const stateDir = config.CYNODE_STATE_DIR;
  const { db, close } = await openDatabase({ databaseUrl: config.DATABASE_URL, stateDir, log });
  try {
    const secret = config.JWT_SECRET ?? (await readOrCreateSecret(stateDir, "jwt-secret"));
    const tokens = createTokens({ secret, ttl: { accessMs: config.JWT_ACCESS_DURATION, refreshMs: config.JWT_REFRESH_DURATION, nodeMs: config.JWT_NODE_DURATION } });

    const admin = await bootstrapAdmin(db, config.BOOTSTRAP_ADMIN_PASSWORD);
    if (admin.created && admin.generatedPassword)
      io.announce(`bootstrap admin created: handle=admin password=${admin.generatedPassword} (shown once; set BOOTSTRAP_ADMIN_PASSWORD to choose it)`);

    const gatewayApp = createGateway({
      db,
      tokens,
      log: log.child({ role: "user-gateway" }),
      limiter: createLoginLimiter({ perMinute: config.RATE_LIMIT_PER_MINUTE, maxFailures: config.LOGIN_MAX_FAILURES, lockoutMs: config.LOGIN_LOCKOUT_DURATION }),
      readiness: () => checkReadiness(db),
      jobDefaults: { sandboxImage: config.SANDBOX_IMAGE, inferenceModel: config.INFERENCE_MODEL },
      maxBodyBytes: config.MAX_REQUEST_BODY_MB * 1024 * 1024,
    });
    const gateway = serveApp(gatewayApp, config.USER_GATEWAY_LISTEN_ADDR);
    log.info("user gateway listening", { url: gateway.url.href });

    return {
      gateway,
      async stop() {
        await gateway.stop();
        await close();
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}
