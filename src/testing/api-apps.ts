/** The three HTTP apps that publish an OpenAPI document, built without serving anything (their routes only). */
import type { Hono } from "hono";
import { memoryLogger } from "../lib/log";
import { createLoginLimiter } from "../orchestrator/auth/login-limiter";
import { createSecretBox, keyFromPassphrase } from "../orchestrator/auth/secret-box";
import { createTokens } from "../orchestrator/auth/tokens";
import { createControlPlane } from "../orchestrator/control-plane/app";
import type { Db } from "../orchestrator/db/connect";
import { createGateway } from "../orchestrator/gateway/app";
import { createWorkerApi } from "../worker-node/worker-api/app";

/** Never queried: building an app only declares its routes; a request that reached the database would fail. */
const NO_DB = {} as Db;

export function documentedApps(): Record<"gateway" | "controlPlane" | "workerApi", Hono<any, any, any>> {
  const log = memoryLogger("api-apps");
  const tokens = createTokens({
    secret: "api-apps-secret-of-sufficient-length",
    ttl: { accessMs: 60_000, refreshMs: 60_000, nodeMs: 60_000 },
  });
  const notRunning = () => Promise.reject(new Error("not running jobs here"));
  return {
    gateway: createGateway({
      db: NO_DB,
      tokens,
      log,
      limiter: createLoginLimiter({ perMinute: 10, maxFailures: 5, lockoutMs: 60_000 }),
      readiness: async () => ({ ready: true }),
      jobDefaults: { sandboxImage: "localhost/cynode-sandbox:latest", inferenceModel: "m" },
    }),
    controlPlane: createControlPlane({
      db: NO_DB,
      tokens,
      secrets: createSecretBox(keyFromPassphrase("api-apps")),
      log,
      registrationPsk: "psk",
      publicUrl: "http://127.0.0.1:12082",
      readiness: async () => ({ ready: true }),
    }),
    workerApi: createWorkerApi({
      runner: { run: notRunning, cancel: notRunning },
      bearerToken: () => undefined,
      notReadyReason: () => null,
      log,
    }),
  };
}
