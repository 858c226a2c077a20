/** Builds and starts every part of the orchestrator from a validated config; `stop()` undoes it in reverse. */
import { join } from "node:path";
import type { Logger } from "../lib/log";
import { serveApp, type Served } from "../lib/serve";
import { fetchWithCa } from "../lib/tls-fetch";
import { hostname } from "node:os";
import { bootstrapAdmin } from "./auth/bootstrap-admin";
import { ensureSystemSkill } from "./db/skills";
import { parseTrustedProxies } from "../lib/client-address";
import { createLoginLimiter } from "./auth/login-limiter";
import { listenForRevokedSessions } from "./auth/revoked-session-listener";
import { createRevokedSessions, createTokens } from "./auth/tokens";
import { createSecretBox, loadSecretKey } from "./auth/secret-box";
import { verifyClusterKey } from "./cluster-key";
import type { OrchestratorConfig } from "./config";
import { createControlPlane } from "./control-plane/app";
import { openNotifications } from "./db/notifications";
import { openDatabase } from "./db/open-database";
import { createJobCanceller } from "./dispatch/cancel-jobs";
import { startDispatcher } from "./dispatch/dispatch-loop";
import { createGateway } from "./gateway/app";
import { createOrchestratorMetrics, type OrchestratorMetrics } from "./metrics";
import { checkReadiness } from "./readiness";
import { readOrCreateSecret } from "./state-secrets";
import { startTaskEndWaiter } from "./tasks/task-end-waiter";
import { startArtifactRetention } from "./tasks/artifact-retention";
import { loadListenerTls, type OrchestratorTls } from "./tls/listener-tls";

export type RunningOrchestrator = { gateway: Served; controlPlane: Served; stop(): Promise<void> };

export const PSK_FILE = "node-registration-psk";

type Db = Awaited<ReturnType<typeof openDatabase>>["db"];
/** What the parts share while they start: their database, config, logger, and the stops of what is running. */
type Starting = { config: OrchestratorConfig; db: Db; url: string; log: Logger; stops: (() => Promise<void>)[] };

/** Tokens (and the revoked sessions they die with), the key to node tokens, the node PSK, the bootstrap admin. */
async function openSecrets(s: Starting, io: { announce: (line: string) => void }) {
  const { config, db, log } = s;
  const stateDir = config.CYNODE_STATE_DIR;
  const secret = config.JWT_SECRET ?? (await readOrCreateSecret(stateDir, "jwt-secret"));
  const revoked = createRevokedSessions();
  const revocations = await listenForRevokedSessions({ db, url: s.url, revoked, log });
  s.stops.push(() => revocations.stop());
  const ttl = {
    accessMs: config.JWT_ACCESS_DURATION,
    refreshMs: config.JWT_REFRESH_DURATION,
    nodeMs: config.JWT_NODE_DURATION,
  };
  const tokens = createTokens({ secret, revoked, ttl });
  const secrets = createSecretBox(await loadSecretKey({ envKey: config.ORCHESTRATOR_SECRET_KEY, stateDir }));
  await verifyClusterKey(db, secrets);
  const psk = config.NODE_REGISTRATION_PSK ?? (await readOrCreateSecret(stateDir, PSK_FILE));
  if (!config.NODE_REGISTRATION_PSK)
    log.info("node registration PSK kept in the state dir", { file: join(stateDir, PSK_FILE) });
  const admin = await bootstrapAdmin(db, config.BOOTSTRAP_ADMIN_PASSWORD);
  await ensureSystemSkill(db);
  if (admin.created && admin.generatedPassword)
    io.announce(
      `bootstrap admin created: handle=admin password=${admin.generatedPassword} (shown once; set BOOTSTRAP_ADMIN_PASSWORD to choose it)`,
    );
  return { tokens, secrets, psk };
}
type Secrets = Awaited<ReturnType<typeof openSecrets>>;
type Shared = Secrets & {
  readiness: () => ReturnType<typeof checkReadiness>;
  metrics: OrchestratorMetrics;
  tls: OrchestratorTls;
  /** Calls of nodes' Worker APIs: trusting the cluster CA only, when there is one. */
  nodeFetch: typeof fetch;
};

function serveControlPlane(s: Starting, x: Shared): Served {
  const { config } = s;
  const controlPlane = serveApp(
    createControlPlane({
      db: s.db,
      tokens: x.tokens,
      secrets: x.secrets,
      log: s.log.child({ role: "control-plane" }),
      registrationPsk: x.psk,
      publicUrl: config.ORCHESTRATOR_PUBLIC_URL,
      workerApiTargetUrl: config.WORKER_API_TARGET_URL,
      workerApiBearerToken: config.WORKER_API_BEARER_TOKEN,
      workflowToken: config.WORKFLOW_RUNNER_BEARER_TOKEN,
      inferenceModel: config.INFERENCE_MODEL,
      maxBodyBytes: config.MAX_REQUEST_BODY_MB * 1024 * 1024,
      readiness: x.readiness,
      metrics: x.metrics,
      clusterCaPem: x.tls.caPem,
      clusterCa: x.tls.ca,
      maxArtifactBytes: config.MAX_ARTIFACT_MB * 1024 * 1024,
    }),
    config.CONTROL_PLANE_LISTEN_ADDR,
    { tls: x.tls.controlPlane },
  );
  s.stops.push(() => controlPlane.stop());
  s.log.info("control-plane listening", { url: controlPlane.url.href });
  return controlPlane;
}

async function serveGateway(s: Starting, x: Shared, dispatcher?: { wake(): void }): Promise<Served> {
  const { config, db, log } = s;
  const notifications = openNotifications(s.url);
  s.stops.push(() => notifications.close());
  const taskEnds = await startTaskEndWaiter(notifications);
  // The chat agent's resumer takes over dead orchestrators' runs until this one stops.
  const resumer = new AbortController();
  s.stops.push(async () => resumer.abort());
  const gateway = serveApp(
    createGateway({
      db,
      tokens: x.tokens,
      log: log.child({ role: "user-gateway" }),
      limiter: createLoginLimiter({
        perMinute: config.RATE_LIMIT_PER_MINUTE,
        maxFailures: config.LOGIN_MAX_FAILURES,
        lockoutMs: config.LOGIN_LOCKOUT_DURATION,
      }),
      readiness: x.readiness,
      jobDefaults: {
        sandboxImage: config.SANDBOX_IMAGE,
        inferenceModel: config.INFERENCE_MODEL,
        egressPolicy: config.EGRESS_ALLOWED_HOSTS,
      },
      maxBodyBytes: config.MAX_REQUEST_BODY_MB * 1024 * 1024,
      cancelJobsOnNodes: createJobCanceller({
        db,
        secrets: x.secrets,
        log: log.child({ role: "dispatcher" }),
        fetch: x.nodeFetch,
      }),
      onJobQueued: dispatcher?.wake,
      chat: {
        openToken: (sealed) => x.secrets.open(sealed),
        rateLimitPerMinute: config.CHAT_RATE_LIMIT_PER_MINUTE,
        maxInFlightPerUser: config.CHAT_MAX_IN_FLIGHT_PER_USER,
        maxTokens: config.CHAT_MAX_TOKENS,
        fetch: x.nodeFetch,
        agentRuns: {
          holder: `${hostname()}-${process.pid}`,
          leaseMs: config.CHAT_AGENT_LEASE_DURATION,
          signal: resumer.signal,
        },
      },
      maxActiveTasksPerUser: config.MAX_ACTIVE_TASKS_PER_USER,
      attachmentLimits: {
        maxAttachments: config.MAX_TASK_ATTACHMENTS,
        maxAttachmentBytes: config.MAX_ATTACHMENT_MB * 1024 * 1024,
      },
      metrics: x.metrics,
      taskEnds,
    }),
    config.USER_GATEWAY_LISTEN_ADDR,
    {
      trustProxyHeaders: config.TRUST_PROXY_HEADERS,
      trustedProxies: parseTrustedProxies(config.TRUSTED_PROXIES),
      tls: x.tls.gateway,
    },
  );
  s.stops.push(() => gateway.stop());
  // Before the gateway's graceful stop: long-polls answer the current state at once instead of holding it up.
  s.stops.push(() => taskEnds.close());
  log.info("user gateway listening", { url: gateway.url.href });
  return gateway;
}

export async function startOrchestrator(
  config: OrchestratorConfig,
  log: Logger,
  io: { announce: (line: string) => void },
): Promise<RunningOrchestrator> {
  const { db, url, close } = await openDatabase({
    databaseUrl: config.DATABASE_URL,
    stateDir: config.CYNODE_STATE_DIR,
    log,
  });
  const s: Starting = { config, db, url, log, stops: [close] };
  const stop = async () => {
    for (const f of s.stops.splice(0).reverse()) await f();
  };
  try {
    const secrets = await openSecrets(s, io);
    const tls = await loadListenerTls(config);
    const shared: Shared = {
      ...secrets,
      readiness: () => checkReadiness(db),
      metrics: createOrchestratorMetrics(db),
      tls,
      nodeFetch: fetchWithCa(fetch, tls.caPem),
    };
    const controlPlane = serveControlPlane(s, shared);
    const dispatcher = config.DISPATCHER_ENABLED
      ? startDispatcher({
          db,
          secrets: secrets.secrets,
          log: log.child({ role: "dispatcher" }),
          pollIntervalMs: config.DISPATCH_POLL_INTERVAL,
          maxHttpTimeoutMs: config.DISPATCH_HTTP_TIMEOUT,
          metrics: shared.metrics,
          fetch: shared.nodeFetch,
        })
      : undefined;
    if (dispatcher) s.stops.push(() => dispatcher.stop());
    const gateway = await serveGateway(s, shared, dispatcher);
    s.stops.push(startArtifactRetention({ db, log, retentionMs: config.ARTIFACT_RETENTION }));
    return { gateway, controlPlane, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
