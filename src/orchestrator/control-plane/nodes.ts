/**
 * `/v1/nodes/*`: registration (PSK; a known slug only with the node key it is bound to, decision 25), config fetch
 * and ack, capability reports (reference-contracts 1.2 and 2).
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { Hono, type Context } from "hono";
import { createFactory } from "hono/factory";
import * as v from "valibot";
import {
  NODE_ERRORS,
  type NodeBootstrapPayload,
  type NodeConfigAck,
  type RegistrationRequest,
  type NodeCapabilityReport,
  type NodeConfigurationPayload,
} from "../../contracts/node-payloads";
import type { AnyRoute } from "../../contracts/route";
import { CONTROL_PLANE_API } from "../../contracts/routes";
import { answered204 } from "../../lib/answered-204";
import { ProblemError } from "../../lib/http-problem";
import type { Logger } from "../../lib/log";
import { describeRoute } from "../../lib/openapi";
import { rfc3339 } from "../../lib/rfc3339";
import { validated } from "../../lib/validate";
import type { SecretBox } from "../auth/secret-box";
import type { Tokens } from "../auth/tokens";
import type { Db } from "../db/connect";
import type { ClusterCa } from "../tls/cluster-ca";
import { issueWorkerApiTls } from "../tls/worker-certificate";
import { appendJobProgress } from "../db/job-progress";
import { isUuid } from "../db/tasks";
import {
  findNodeById,
  recordCapability,
  recordConfigAck,
  registerNode,
  setWorkerToken,
  type RegistrationRefusal,
} from "../db/nodes";
import { verifyNodeProof } from "./node-proof";
import { contentHash } from "./canonical-hash";
import { requireNode, type NodeAuthEnv } from "./node-auth";
import { baseUrlOf, buildNodeConfig, type NodeConfigOptions } from "./node-config";

export type NodeRoutesDeps = NodeConfigOptions & {
  db: Db;
  tokens: Tokens;
  secrets: SecretBox;
  log: Logger;
  registrationPsk: string;
  /** Operator override (`WORKER_API_TARGET_URL`): wins over the URL a node advertises. */
  workerApiTargetUrl?: string;
  /** Operator-chosen token for every node (`WORKER_API_BEARER_TOKEN`); unset, each node gets its own random one. */
  workerApiBearerToken?: string;
  now: () => Date;
  newId: () => string;
  newWorkerToken: () => string;
  /** With `--tls auto`: signs the Worker API certificate request a node registers with. */
  clusterCa?: ClusterCa;
};

export const randomWorkerToken = () => randomBytes(32).toString("base64url");

const API = CONTROL_PLANE_API;
const KNOWN_DETAILS = new Set<string>(Object.values(NODE_ERRORS));
const tags = ["nodes"];
const nodeHandlers = createFactory<NodeAuthEnv>();

/**
 * A 400 detail from a contract schema's issues: the reference's wording where the schema carries it (the first
 * issue's message is one of NODE_ERRORS), else the field and what is wrong with it.
 */
function bodyDetail(issues: v.BaseIssue<unknown>[]): string {
  const issue = issues[0];
  if (issue && KNOWN_DETAILS.has(issue.message)) return issue.message;
  return issue ? `${NODE_ERRORS.badBody}: ${v.getDotPath(issue) ?? "body"}: ${issue.message}` : NODE_ERRORS.badBody;
}

const body = <S extends v.GenericSchema>(schema: S) => validated("json", schema, bodyDetail);

/** Constant-time PSK comparison (digests first, so lengths never differ). */
function pskMatches(given: unknown, expected: string): boolean {
  if (typeof given !== "string" || !expected) return false;
  const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(digest(given), digest(expected));
}

const workerUrlFor = (d: NodeRoutesDeps, report: NodeCapabilityReport) =>
  d.workerApiTargetUrl?.trim() || report.worker_api?.base_url.trim() || undefined;

type NodeCaller = NodeAuthEnv["Variables"]["node"];

/** The caller's node; its token is refused once the node is bound to another key than the token names (or reset). */
async function existingNode(d: NodeRoutesDeps, caller: NodeCaller) {
  const node = await findNodeById(d.db, caller.node_id);
  if (!node) throw new ProblemError(404, NODE_ERRORS.nodeNotFound);
  if ((node.key_thumbprint ?? undefined) !== caller.node_key) throw new ProblemError(401, NODE_ERRORS.badToken);
  return node;
}

const capabilityOf = (d: NodeRoutesDeps, nodeId: string, report: NodeCapabilityReport, now: Date) => ({
  nodeId,
  report,
  hash: contentHash(report),
  workerUrl: workerUrlFor(d, report),
  now,
});

/** The PSK, first (as the reference checks it before the rest of the body): a wrong one is a 401. */
const pskGate =
  (d: NodeRoutesDeps) =>
  async (c: Context, next: () => Promise<void>): Promise<void> => {
    const raw: unknown = await c.req.json().catch(() => undefined);
    // Not a JSON object: the body validator's 400.
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return next();
    const body = raw as { psk?: unknown; capability?: { node?: { node_slug?: unknown } } };
    if (!pskMatches(body.psk, d.registrationPsk)) {
      const slug = body.capability?.node?.node_slug;
      d.log.warn("node registration rejected: invalid PSK", { node_slug: typeof slug === "string" ? slug : undefined });
      throw new ProblemError(401, NODE_ERRORS.badPsk);
    }
    await next();
  };

const REFUSALS: Record<RegistrationRefusal, string> = {
  key_mismatch: NODE_ERRORS.identityTaken,
  key_required: NODE_ERRORS.identityRequired,
  proof_replayed: NODE_ERRORS.proofReplayed,
};

async function register(d: NodeRoutesDeps, { capability, worker_api_csr, node_identity }: RegistrationRequest) {
  const now = d.now();
  const slug = capability.node.node_slug;
  const key = node_identity
    ? await verifyNodeProof(node_identity, { slug, workerApiUrl: capability.worker_api?.base_url ?? "", now })
    : undefined;
  const registered = await registerNode(d.db, {
    id: d.newId(),
    slug,
    workerUrl: workerUrlFor(d, capability),
    sealedToken: d.secrets.seal(d.workerApiBearerToken || d.newWorkerToken()),
    key,
    now,
  });
  if ("refused" in registered) {
    d.log.warn("node registration refused", { node_slug: slug, reason: registered.refused });
    throw new ProblemError(403, REFUSALS[registered.refused]);
  }
  const { node, created, bound } = registered;
  await recordCapability(d.db, capabilityOf(d, node.id, capability, now));
  const jwt = await d.tokens.issueNode({ id: node.id, slug: node.node_slug, keyThumbprint: node.key_thumbprint });
  const base = baseUrlOf(d.publicUrl);
  const payload: NodeBootstrapPayload = {
    version: 1,
    issued_at: rfc3339(now),
    orchestrator: {
      base_url: base,
      endpoints: {
        worker_registration_url: base + API.register.path(),
        node_report_url: base + API.capability.path(),
        node_config_url: base + API.config.path(),
      },
    },
    auth: { node_jwt: jwt.token, expires_at: rfc3339(jwt.expiresAt) },
    worker_api_tls: await issueWorkerApiTls(d.clusterCa, worker_api_csr, workerUrlFor(d, capability)),
  };
  if (!node.key_thumbprint)
    d.log.warn("node registered without an identity key: any PSK holder can re-register it", { node_slug: slug });
  d.log.info("node registered", { node_id: node.id, node_slug: node.node_slug, created, key_bound: bound });
  return { payload, created };
}

async function config(d: NodeRoutesDeps, caller: NodeCaller): Promise<NodeConfigurationPayload> {
  const node = await existingNode(d, caller);
  if (!node.worker_api_bearer_token) throw new Error(`node ${node.node_slug} has no worker token`);
  let workerToken = d.secrets.open(node.worker_api_bearer_token);
  // The operator's token replaces a node's own when the node fetches its config: that is when it learns it.
  if (d.workerApiBearerToken && workerToken !== d.workerApiBearerToken) {
    workerToken = d.workerApiBearerToken;
    await setWorkerToken(d.db, { nodeId: node.id, sealedToken: d.secrets.seal(workerToken), now: d.now() });
  }
  return buildNodeConfig(d.db, node, workerToken, { ...d, now: d.now() });
}

async function ack(d: NodeRoutesDeps, caller: NodeCaller, ack: NodeConfigAck) {
  if (ack.node_slug !== caller.node_slug) throw new ProblemError(400, NODE_ERRORS.ackSlugMismatch);
  const node = await existingNode(d, caller);
  const now = d.now();
  const ackAt = ack.ack_at ? new Date(ack.ack_at) : now;
  await recordConfigAck(d.db, {
    nodeId: node.id,
    version: ack.config_version,
    status: ack.status,
    at: Number.isNaN(ackAt.getTime()) ? now : ackAt,
    error: ack.error?.message ?? null,
    now,
  });
  d.log.info("node config ack", {
    node_slug: node.node_slug,
    config_version: ack.config_version,
    current: ack.config_version === node.config_version,
    status: ack.status,
  });
}

async function capability(d: NodeRoutesDeps, caller: NodeCaller, report: NodeCapabilityReport) {
  if (report.node.node_slug !== caller.node_slug) throw new ProblemError(400, NODE_ERRORS.ackSlugMismatch);
  const node = await existingNode(d, caller);
  await recordCapability(d.db, capabilityOf(d, node.id, report, d.now()));
}

/** Appends an agent job's step lines; only the node the job runs on may (decision 22). */
async function progress(d: NodeRoutesDeps, caller: NodeCaller, jobId: string, lines: string[]) {
  if (!isUuid(jobId)) throw new ProblemError(404, NODE_ERRORS.jobNotFound);
  const outcome = await appendJobProgress(d.db, { jobId, nodeId: caller.node_id, lines, now: d.now() });
  if (outcome === "not_found") throw new ProblemError(404, NODE_ERRORS.jobNotFound);
  if (outcome === "not_on_node") throw new ProblemError(403, NODE_ERRORS.jobNotOnNode);
  if (outcome === "not_running") throw new ProblemError(409, NODE_ERRORS.jobNotRunning);
}

export function nodeRoutes(d: NodeRoutesDeps) {
  const authed = requireNode(d.tokens);
  const doc = (route: AnyRoute, summary: string) => describeRoute(route, { summary, tags, problems: [400, 401, 404] });
  /** The handlers of a node's JSON report at `route`: documented, validated, kept by `keep`, answered 204. */
  const stored = <S extends v.GenericSchema>(
    route: AnyRoute & { body: S },
    summary: string,
    keep: (d: NodeRoutesDeps, caller: NodeCaller, report: v.InferOutput<S>) => Promise<void>,
  ) =>
    answered204(nodeHandlers, doc(route, summary), route.body, bodyDetail, (c, report) => keep(d, c.var.node, report));
  return (
    new Hono<NodeAuthEnv>()
      .post(
        API.register.pattern,
        describeRoute(API.register, {
          summary: "Register a node (pre-shared key; a known slug only with the key it is bound to); 201 when new",
          tags,
          responses: { 201: API.register.response },
          problems: [400, 401, 403],
        }),
        pskGate(d),
        body(API.register.body),
        async (c) => {
          const { payload, created } = await register(d, c.req.valid("json"));
          return c.json(payload, created ? 201 : 200);
        },
      )
      // Any method on these paths needs the node's token (401 before 404).
      .use(API.config.pattern, authed)
      .use(API.capability.pattern, authed)
      .use(API.jobProgress.pattern, authed)
      .get(
        API.config.pattern,
        describeRoute(API.config, { summary: "The node's configuration", tags, problems: [401, 404] }),
        async (c) => c.json(await config(d, c.var.node), 200),
      )
      .post(API.configAck.pattern, ...stored(API.configAck, "Acknowledge a configuration", ack))
      .post(API.capability.pattern, ...stored(API.capability, "Report the node's capabilities", capability))
      .post(
        API.jobProgress.pattern,
        describeRoute(API.jobProgress, {
          summary: "Report an agent job's step lines (the node running it only; shown by the task's logs)",
          tags,
          problems: [400, 401, 403, 404, 409],
        }),
        body(API.jobProgress.body),
        async (c) => {
          await progress(d, c.var.node, c.req.param("job_id"), c.req.valid("json").lines);
          return c.body(null, 204);
        },
      )
  );
}
