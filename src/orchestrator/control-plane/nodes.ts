/** `/v1/nodes/*`: registration (PSK), config fetch and ack, capability reports (reference-contracts 1.2 and 2). */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { Hono, type Context } from "hono";
import * as v from "valibot";
import {
  CONTROL_PLANE_API,
  NODE_ERRORS,
  NodeBootstrapPayload,
  NodeCapabilityReport,
  NodeConfigAck,
  NodeConfigurationPayload,
  RegistrationRequest,
} from "../../contracts/node-payloads";
import { ProblemError } from "../../lib/http-problem";
import { assertStorable, schemaProblem } from "../../lib/storable-input";
import { describeRoute } from "../../lib/openapi";
import type { Logger } from "../../lib/log";
import type { SecretBox } from "../auth/secret-box";
import type { Tokens } from "../auth/tokens";
import type { Db } from "../db/connect";
import { findNodeById, recordCapability, recordConfigAck, registerNode, setWorkerToken } from "../db/nodes";
import { contentHash } from "./canonical-hash";
import { requireNode, type NodeAuthEnv } from "./node-auth";
import { rfc3339 } from "../../lib/rfc3339";
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
};

export const randomWorkerToken = () => randomBytes(32).toString("base64url");

const KNOWN_DETAILS = new Set<string>(Object.values(NODE_ERRORS));
const tags = ["nodes"];
const DOCS = {
  register: describeRoute({
    summary: "Register a node (pre-shared key); returns its bootstrap (201 when new)",
    tags,
    body: RegistrationRequest,
    responses: { 200: NodeBootstrapPayload, 201: NodeBootstrapPayload },
    problems: [400, 401],
  }),
  config: describeRoute({
    summary: "The node's configuration",
    tags,
    auth: true,
    responses: { 200: NodeConfigurationPayload },
    problems: [401, 404],
  }),
  ack: describeRoute({
    summary: "Acknowledge a configuration",
    tags,
    auth: true,
    body: NodeConfigAck,
    responses: { 204: null },
    problems: [400, 401, 404],
  }),
  capability: describeRoute({
    summary: "Report the node's capabilities",
    tags,
    auth: true,
    body: NodeCapabilityReport,
    responses: { 204: null },
    problems: [400, 401, 404],
  }),
};

async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const body: unknown = await c.req.json().catch(() => undefined);
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new ProblemError(400, NODE_ERRORS.badBody);
  return body as Record<string, unknown>;
}

/**
 * Parses with a contract schema (by hand rather than hono's validator: registration must check the PSK
 * before the capability, as the reference does); the first issue becomes the 400 detail (reference wording where there is one). */
function parseOr400<S extends v.GenericSchema>(schema: S, input: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  if (result.success) {
    assertStorable(result.output);
    return result.output;
  }
  const issue = result.issues[0];
  if (KNOWN_DETAILS.has(issue.message)) throw new ProblemError(400, issue.message);
  throw schemaProblem(result.issues, `${NODE_ERRORS.badBody}: ${v.getDotPath(issue) ?? "body"}: ${issue.message}`);
}

/** Constant-time PSK comparison (digests first, so lengths never differ). */
function pskMatches(given: unknown, expected: string): boolean {
  if (typeof given !== "string" || !expected) return false;
  const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(digest(given), digest(expected));
}

export function nodeRoutes(deps: NodeRoutesDeps) {
  const { db, log } = deps;
  const workerUrlFor = (report: NodeCapabilityReport) =>
    deps.workerApiTargetUrl?.trim() || report.worker_api?.base_url.trim() || undefined;

  async function existingNode(id: string) {
    const node = await findNodeById(db, id);
    if (!node) throw new ProblemError(404, NODE_ERRORS.nodeNotFound);
    return node;
  }

  return new Hono<NodeAuthEnv>()
    .post(CONTROL_PLANE_API.register, DOCS.register, async (c) => {
      const body = await readJsonObject(c);
      if (!pskMatches(body.psk, deps.registrationPsk)) {
        const slug = (body.capability as { node?: { node_slug?: unknown } } | undefined)?.node?.node_slug;
        log.warn("node registration rejected: invalid PSK", { node_slug: typeof slug === "string" ? slug : undefined });
        throw new ProblemError(401, NODE_ERRORS.badPsk);
      }
      const { capability } = parseOr400(RegistrationRequest, body);
      const now = deps.now();
      const { node, created } = await registerNode(db, {
        id: deps.newId(),
        slug: capability.node.node_slug,
        workerUrl: workerUrlFor(capability),
        sealedToken: deps.secrets.seal(deps.workerApiBearerToken || deps.newWorkerToken()),
        now,
      });
      await recordCapability(db, {
        nodeId: node.id,
        report: capability,
        hash: contentHash(capability),
        workerUrl: workerUrlFor(capability),
        now,
      });
      const jwt = await deps.tokens.issueNode({ id: node.id, slug: node.node_slug });
      const base = baseUrlOf(deps.publicUrl);
      const payload: NodeBootstrapPayload = {
        version: 1,
        issued_at: rfc3339(now),
        orchestrator: {
          base_url: base,
          endpoints: {
            worker_registration_url: base + CONTROL_PLANE_API.register,
            node_report_url: base + CONTROL_PLANE_API.capability,
            node_config_url: base + CONTROL_PLANE_API.config,
          },
        },
        auth: { node_jwt: jwt.token, expires_at: rfc3339(jwt.expiresAt) },
      };
      log.info("node registered", { node_id: node.id, node_slug: node.node_slug, created });
      return c.json(payload, created ? 201 : 200);
    })
    .use(CONTROL_PLANE_API.config, requireNode(deps.tokens))
    .use(CONTROL_PLANE_API.capability, requireNode(deps.tokens))
    .get(CONTROL_PLANE_API.config, DOCS.config, async (c) => {
      const node = await existingNode(c.var.node.node_id);
      if (!node.worker_api_bearer_token) throw new Error(`node ${node.node_slug} has no worker token`);
      let workerToken = deps.secrets.open(node.worker_api_bearer_token);
      // The operator's token replaces a node's own when the node fetches its config: that is when it learns it.
      if (deps.workerApiBearerToken && workerToken !== deps.workerApiBearerToken) {
        workerToken = deps.workerApiBearerToken;
        await setWorkerToken(db, { nodeId: node.id, sealedToken: deps.secrets.seal(workerToken), now: deps.now() });
      }
      const config = await buildNodeConfig(db, node, workerToken, { ...deps, now: deps.now() });
      return c.json(config, 200);
    })
    .post(CONTROL_PLANE_API.config, DOCS.ack, async (c) => {
      const ack = parseOr400(NodeConfigAck, await readJsonObject(c));
      if (ack.node_slug !== c.var.node.node_slug) throw new ProblemError(400, NODE_ERRORS.ackSlugMismatch);
      const node = await existingNode(c.var.node.node_id);
      const now = deps.now();
      const ackAt = ack.ack_at ? new Date(ack.ack_at) : now;
      await recordConfigAck(db, {
        nodeId: node.id,
        version: ack.config_version,
        status: ack.status,
        at: Number.isNaN(ackAt.getTime()) ? now : ackAt,
        error: ack.error?.message ?? null,
        now,
      });
      log.info("node config ack", {
        node_slug: node.node_slug,
        config_version: ack.config_version,
        current: ack.config_version === node.config_version,
        status: ack.status,
      });
      return c.body(null, 204);
    })
    .post(CONTROL_PLANE_API.capability, DOCS.capability, async (c) => {
      const report = parseOr400(NodeCapabilityReport, await readJsonObject(c));
      if (report.node.node_slug !== c.var.node.node_slug) throw new ProblemError(400, NODE_ERRORS.ackSlugMismatch);
      const node = await existingNode(c.var.node.node_id);
      await recordCapability(db, {
        nodeId: node.id,
        report,
        hash: contentHash(report),
        workerUrl: workerUrlFor(report),
        now: deps.now(),
      });
      return c.body(null, 204);
    });
}
