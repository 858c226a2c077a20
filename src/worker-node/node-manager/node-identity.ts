/**
 * The node's identity key (decision 25): an ECDSA P-256 key pair made at the first start and kept in
 * `<state_dir>/node-identity-key.json` (private JWK, mode 0600). Every registration carries the public half and a
 * proof signed with it; the orchestrator binds the slug to that key at the first registration and re-admits the
 * slug only with it. Losing the file means an admin must reset the node (`cynork nodes reset <slug>`).
 */
import { chmod, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SignJWT, exportJWK, importJWK } from "jose";
import * as v from "valibot";
import {
  NODE_KEY_ALG,
  NODE_PROOF_AUDIENCE,
  NodePublicKey,
  type NodeIdentity,
  type NodePublicKey as PublicKey,
} from "../../contracts/node-payloads";
import { ensureWritableDir } from "./writable-dir";

export const NODE_KEY_FILE = "node-identity-key.json";
/** A proof is good for this long after it was made (the orchestrator allows at most NODE_PROOF_MAX_AGE_SECONDS). */
const PROOF_TTL_SECONDS = 120;
const ALG = { name: "ECDSA", namedCurve: "P-256" } as const;

export type NodeKey = { privateKey: CryptoKey; publicJwk: PublicKey };

const PrivateJwk = v.looseObject({ ...NodePublicKey.entries, d: v.string() });

/** Reads the node's key from its state dir, or makes and stores one (0600) when there is none. */
export async function loadOrCreateNodeKey(stateDir: string): Promise<NodeKey> {
  await ensureWritableDir(stateDir, "state dir");
  const file = join(stateDir, NODE_KEY_FILE);
  const text = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
  if (text === undefined) return createKey(file);
  const mode = (await stat(file)).mode & 0o777;
  if (mode & 0o077) throw new Error(`node key ${file} is readable by others (mode ${mode.toString(8)}): chmod 600 it`);
  const parsed = v.safeParse(PrivateJwk, JSON.parse(text));
  if (!parsed.success) throw new Error(`node key ${file} is not an EC P-256 private JWK`);
  const { kty, crv, x, y } = parsed.output;
  const privateKey = await importJWK({ ...parsed.output, alg: NODE_KEY_ALG }, NODE_KEY_ALG);
  return { privateKey: privateKey as CryptoKey, publicJwk: { kty, crv, x, y } };
}

async function createKey(file: string): Promise<NodeKey> {
  const pair = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const jwk = await exportJWK(pair.privateKey);
  // `wx`: two starts racing on one state dir keep the first key, the second fails rather than overwriting it.
  await writeFile(file, `${JSON.stringify(jwk)}\n`, { mode: 0o600, flag: "wx" });
  await chmod(file, 0o600);
  const { kty, crv, x, y } = v.parse(PrivateJwk, jwk);
  return { privateKey: pair.privateKey, publicJwk: { kty, crv, x, y } };
}

/** The registration's `node_identity`: the public key and a fresh one-time proof for this slug and Worker API URL. */
export async function nodeIdentityProof(
  key: NodeKey,
  claims: { slug: string; workerApiUrl: string; now: Date },
): Promise<NodeIdentity> {
  const iat = Math.floor(claims.now.getTime() / 1000);
  const proof = await new SignJWT({ worker_api_url: claims.workerApiUrl })
    .setProtectedHeader({ alg: NODE_KEY_ALG, typ: "cynodeai-node-proof+jwt" })
    .setSubject(claims.slug)
    .setAudience(NODE_PROOF_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + PROOF_TTL_SECONDS)
    .setJti(crypto.randomUUID())
    .sign(key.privateKey);
  return { public_key: key.publicJwk, proof };
}
