/** Worker nodes: registration, capability snapshots, config versions and acks, and the dispatchable rule. */
import { sql } from "kysely";
import * as v from "valibot";
import { type ConfigAckStatus, NodeCapabilityReport } from "../../contracts/node-payloads";
import type { Db } from "./connect";
import type { Node } from "./schema";

export function findNodeById(db: Db, id: string): Promise<Node | undefined> {
  return db.selectFrom("nodes").selectAll().where("id", "=", id).executeTakeFirst();
}

export type RegisterNodeInput = {
  id: string;
  slug: string;
  /** Dispatch URL by the worker-URL rule; undefined keeps what is stored. */
  workerUrl: string | undefined;
  /** Sealed bearer token for a new node; an existing node keeps its own. */
  sealedToken: string;
  /** The key the registration proved (its proof already checked against it); none from a node without one. */
  key?: { jwk: unknown; thumbprint: string; proofId: string; proofExpiresAt: Date };
  now: Date;
};

/** Why a registration was refused: the slug is bound to another key (or to a key, and none came), or a replay. */
export type RegistrationRefusal = "key_mismatch" | "key_required" | "proof_replayed";

export type RegisterNodeResult = { node: Node; created: boolean; bound: boolean } | { refused: RegistrationRefusal };

/**
 * Inserts the node, or re-activates the one already registered under the slug, in one transaction that holds the
 * node row: a slug bound to a key is re-registered only with that key; one not bound yet (a new node, one from
 * before 0008, one an admin reset) is bound to the key the registration brings. A proof id is used once.
 */
export function registerNode(db: Db, input: RegisterNodeInput): Promise<RegisterNodeResult> {
  return db.transaction().execute(async (tx) => {
    if (input.key && !(await useProofId(tx, input.slug, input.key, input.now))) return { refused: "proof_replayed" };
    const inserted = await insertNode(tx, input);
    if (inserted) return { node: inserted, created: true, bound: Boolean(input.key) };
    const existing = await tx
      .selectFrom("nodes")
      .selectAll()
      .where("node_slug", "=", input.slug)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (existing.key_thumbprint && !input.key) return { refused: "key_required" };
    if (existing.key_thumbprint && existing.key_thumbprint !== input.key?.thumbprint)
      return { refused: "key_mismatch" };
    const bind = !existing.key_thumbprint && input.key ? input.key : undefined;
    const node = await tx
      .updateTable("nodes")
      .set((eb) => ({
        status: "active",
        worker_api_target_url: input.workerUrl ?? eb.ref("worker_api_target_url"),
        worker_api_bearer_token: eb.fn.coalesce("worker_api_bearer_token", eb.val(input.sealedToken)),
        ...(bind ? keyColumns(bind, input.now) : {}),
        last_seen_at: input.now,
        updated_at: input.now,
      }))
      .where("id", "=", existing.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return { node, created: false, bound: Boolean(bind) };
  });
}

const keyColumns = (key: NonNullable<RegisterNodeInput["key"]>, now: Date) => ({
  public_key: sql`${JSON.stringify(key.jwk)}::jsonb` as never,
  key_thumbprint: key.thumbprint,
  key_bound_at: now,
});

function insertNode(db: Db, input: RegisterNodeInput): Promise<Node | undefined> {
  return db
    .insertInto("nodes")
    .values({
      id: input.id,
      node_slug: input.slug,
      status: "active",
      capability_hash: null,
      config_version: null,
      config_hash: null,
      worker_api_target_url: input.workerUrl ?? null,
      worker_api_bearer_token: input.sealedToken,
      config_ack_at: null,
      config_ack_status: null,
      config_ack_error: null,
      config_ack_version: null,
      last_seen_at: input.now,
      last_capability_at: null,
      metadata: null,
      ...(input.key ? keyColumns(input.key, input.now) : { key_thumbprint: null }),
      created_at: input.now,
      updated_at: input.now,
    })
    .onConflict((oc) => oc.column("node_slug").doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** Records a proof's one-time id (dropping expired ones); false when it was used before. */
async function useProofId(db: Db, slug: string, key: NonNullable<RegisterNodeInput["key"]>, now: Date) {
  await db.deleteFrom("node_proof_ids").where("expires_at", "<", now).execute();
  const row = await db
    .insertInto("node_proof_ids")
    .values({ jti: key.proofId, node_slug: slug, expires_at: key.proofExpiresAt })
    .onConflict((oc) => oc.column("jti").doNothing())
    .returning("jti")
    .executeTakeFirst();
  return Boolean(row);
}

/**
 * An admin's reset (decision 25): the slug forgets its key, so the next registration with the PSK binds again; the
 * node's tokens (they carry the old key's thumbprint) are refused from now on and it takes no work until it
 * registers again. Undefined for an unknown slug.
 */
export async function resetNodeIdentity(db: Db, slug: string, now: Date): Promise<Node | undefined> {
  return db
    .updateTable("nodes")
    .set({ public_key: null, key_thumbprint: null, key_bound_at: null, status: "inactive", updated_at: now })
    .where("node_slug", "=", slug)
    .returningAll()
    .executeTakeFirst();
}

export function findNodeBySlug(db: Db, slug: string): Promise<Node | undefined> {
  return db.selectFrom("nodes").selectAll().where("node_slug", "=", slug).executeTakeFirst();
}

/** Every node, by slug (the admin's list). */
export function listNodes(db: Db): Promise<Node[]> {
  return db.selectFrom("nodes").selectAll().orderBy("node_slug").execute();
}

/** Appends a capability snapshot and refreshes the node's hash, timestamps and (when given) worker URL. */
export async function recordCapability(
  db: Db,
  input: { nodeId: string; report: unknown; hash: string; workerUrl: string | undefined; now: Date },
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await tx
      .insertInto("node_capabilities")
      .values({
        id: crypto.randomUUID(),
        node_id: input.nodeId,
        reported_at: input.now,
        capability_snapshot: sql`${JSON.stringify(input.report)}::jsonb` as never,
        hash: input.hash,
      })
      .execute();
    await tx
      .updateTable("nodes")
      .set((eb) => ({
        capability_hash: input.hash,
        last_capability_at: input.now,
        last_seen_at: input.now,
        suspect_since: null,
        worker_api_target_url: input.workerUrl ?? eb.ref("worker_api_target_url"),
        updated_at: input.now,
      }))
      .where("id", "=", input.nodeId)
      .execute();
  });
}

/** A stored snapshot as a report, or undefined when it does not parse (a node may predate a schema change). */
function parseSnapshot(snapshot: unknown): NodeCapabilityReport | undefined {
  const value = typeof snapshot === "string" ? JSON.parse(snapshot) : snapshot;
  const parsed = v.safeParse(NodeCapabilityReport, value);
  return parsed.success ? parsed.output : undefined;
}

/** The most recent capability report of each given node whose latest snapshot parses, by node id. */
export async function latestCapabilities(db: Db, nodeIds: string[]): Promise<Map<string, NodeCapabilityReport>> {
  if (!nodeIds.length) return new Map();
  const rows = await db
    .selectFrom("node_capabilities")
    .distinctOn("node_id")
    .select(["node_id", "capability_snapshot"])
    .where("node_id", "in", nodeIds)
    .orderBy("node_id")
    .orderBy("reported_at", "desc")
    .orderBy("id", "desc")
    .execute();
  return new Map(
    rows.flatMap((r) => {
      const report = parseSnapshot(r.capability_snapshot);
      return report ? [[r.node_id, report]] : [];
    }),
  );
}

/** Stores a freshly minted config version for the content hash it was minted for. */
export async function setConfigVersion(
  db: Db,
  input: { nodeId: string; version: string; hash: string; now: Date },
): Promise<void> {
  await db
    .updateTable("nodes")
    .set({ config_version: input.version, config_hash: input.hash, updated_at: input.now })
    .where("id", "=", input.nodeId)
    .execute();
}

export type ConfigAckInput = {
  nodeId: string;
  version: string;
  status: ConfigAckStatus;
  at: Date;
  error: string | null;
  now: Date;
};

export async function recordConfigAck(db: Db, input: ConfigAckInput): Promise<void> {
  await db
    .updateTable("nodes")
    .set({
      config_ack_version: input.version,
      config_ack_status: input.status,
      config_ack_at: input.at,
      config_ack_error: input.error,
      last_seen_at: input.now,
      updated_at: input.now,
    })
    .where("id", "=", input.nodeId)
    .execute();
}

/** Three missed capability reports at the node's default 60 s interval: the liveness window's default. */
export const LIVE_REPORT_WINDOW_MS = 180_000;

export type LivenessWindow = { now: Date; windowMs?: number };

/**
 * Active nodes that acked `applied` for their current config version and have a worker URL and token, and whose
 * last capability report is within the window, ordered by slug (callers that break ties pick deterministically).
 * `suspect: false` is THE liveness rule (decision 13) that readiness, the dispatcher and the chat router all use;
 * `suspect: true` gives the nodes that would be live but for a failed connection (the dispatcher probes them).
 */
function nodesInWindow(db: Db, w: LivenessWindow & { suspect: boolean }): Promise<Node[]> {
  const reportedSince = new Date(w.now.getTime() - (w.windowMs ?? LIVE_REPORT_WINDOW_MS));
  return db
    .selectFrom("nodes")
    .selectAll()
    .where("status", "=", "active")
    .where("config_ack_status", "=", "applied")
    .where((eb) => eb("config_ack_version", "=", eb.ref("config_version")))
    .where("worker_api_target_url", "<>", "")
    .where("worker_api_bearer_token", "<>", "")
    .where("last_capability_at", ">=", reportedSince)
    .where("suspect_since", w.suspect ? "is not" : "is", null)
    .orderBy("node_slug")
    .execute();
}

/** Live nodes: configured, reporting within the window and not suspect. New work and chats go only here. */
export function liveNodes(db: Db, w: LivenessWindow): Promise<Node[]> {
  return nodesInWindow(db, { ...w, suspect: false });
}

/** Nodes that are live but for a failed connection: no new work, but the dispatcher probes them. */
export function suspectNodes(db: Db, w: LivenessWindow): Promise<Node[]> {
  return nodesInWindow(db, { ...w, suspect: true });
}

/** A failed connection: no new work for the node until it answers a probe or reports again. */
export async function markNodeSuspect(db: Db, nodeId: string, now: Date): Promise<void> {
  await db
    .updateTable("nodes")
    .set((eb) => ({ suspect_since: eb.fn.coalesce("suspect_since", eb.val(now)), updated_at: now }))
    .where("id", "=", nodeId)
    .execute();
}

/** The node answered a probe; `since` guards against clearing a newer suspicion. */
export async function clearNodeSuspect(db: Db, nodeId: string, since: Date): Promise<void> {
  await db
    .updateTable("nodes")
    .set({ suspect_since: null })
    .where("id", "=", nodeId)
    .where("suspect_since", "<=", since)
    .execute();
}

/** Worker URL and sealed token of each given node that has both, by node id. */
export async function nodeEndpoints(
  db: Db,
  nodeIds: string[],
): Promise<Map<string, { slug: string; url: string; sealedToken: string }>> {
  if (!nodeIds.length) return new Map();
  const rows = await db
    .selectFrom("nodes")
    .select(["id", "node_slug", "worker_api_target_url", "worker_api_bearer_token"])
    .where("id", "in", nodeIds)
    .execute();
  const out = new Map<string, { slug: string; url: string; sealedToken: string }>();
  for (const r of rows)
    if (r.worker_api_target_url && r.worker_api_bearer_token)
      out.set(r.id, { slug: r.node_slug, url: r.worker_api_target_url, sealedToken: r.worker_api_bearer_token });
  return out;
}

/** Replaces a node's sealed Worker API token (the operator's `WORKER_API_BEARER_TOKEN` took over). */
export async function setWorkerToken(db: Db, input: { nodeId: string; sealedToken: string; now: Date }): Promise<void> {
  await db
    .updateTable("nodes")
    .set({ worker_api_bearer_token: input.sealedToken, updated_at: input.now })
    .where("id", "=", input.nodeId)
    .execute();
}

/** One node's sealed Worker API token, if any node has one (to check a key against a database from before 0003). */
export async function anySealedWorkerToken(db: Db): Promise<string | undefined> {
  const row = await db
    .selectFrom("nodes")
    .select("worker_api_bearer_token")
    .where("worker_api_bearer_token", "<>", "")
    .limit(1)
    .executeTakeFirst();
  return row?.worker_api_bearer_token ?? undefined;
}

/** When each node last reported. */
export function nodesLastSeen(db: Db): Promise<{ node_slug: string; last_seen_at: Date | null }[]> {
  return db.selectFrom("nodes").select(["node_slug", "last_seen_at"]).execute();
}
