/**
 * Node identity (decision 25): the public key (JWK) a node's slug is bound to, its RFC 7638 thumbprint (node tokens
 * carry it, so forgetting the key ends them) and when it was bound; `node_proof_ids` holds the one-time ids of
 * registration proofs until they expire, so a captured proof cannot be replayed. Nodes from before this migration
 * have no key: the first registration that brings one binds it.
 */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("nodes")
    .addColumn("public_key", "jsonb")
    .addColumn("key_thumbprint", "text")
    .addColumn("key_bound_at", "timestamptz")
    .execute();
  await db.schema
    .createTable("node_proof_ids")
    .addColumn("jti", "text", (c) => c.primaryKey())
    .addColumn("node_slug", "text", (c) => c.notNull())
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("node_proof_ids_expires_at_idx").on("node_proof_ids").column("expires_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("node_proof_ids").ifExists().execute();
  await db.schema
    .alterTable("nodes")
    .dropColumn("key_bound_at")
    .dropColumn("key_thumbprint")
    .dropColumn("public_key")
    .execute();
}
