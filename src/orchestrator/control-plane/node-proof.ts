/**
 * Checks a registration's node identity (decision 25): the proof is a JWS by the key the registration sends, for
 * this slug and Worker API URL, recent and unexpired. Whether that key is the one the slug is bound to is the
 * database's call (db/nodes.ts `registerNode`, by thumbprint, with the node row held).
 */
import { calculateJwkThumbprint, importJWK, jwtVerify } from "jose";
import * as v from "valibot";
import {
  NODE_ERRORS,
  NODE_KEY_ALG,
  NODE_PROOF_AUDIENCE,
  NODE_PROOF_MAX_AGE_SECONDS,
  NodeProofClaims,
  type NodeIdentity,
} from "../../contracts/node-payloads";
import { ProblemError } from "../../lib/http-problem";

/** A proven key, as `registerNode` takes it. */
export type ProvenKey = { jwk: NodeIdentity["public_key"]; thumbprint: string; proofId: string; proofExpiresAt: Date };

/** Clock skew allowed between node and orchestrator. */
const CLOCK_TOLERANCE_SECONDS = 60;

export async function verifyNodeProof(
  identity: NodeIdentity,
  expected: { slug: string; workerApiUrl: string; now: Date },
): Promise<ProvenKey> {
  const claims = await verifiedClaims(identity, expected.now);
  if (!claims || claims.sub !== expected.slug || claims.worker_api_url !== expected.workerApiUrl)
    throw new ProblemError(403, NODE_ERRORS.proofInvalid);
  return {
    jwk: identity.public_key,
    thumbprint: await calculateJwkThumbprint(identity.public_key, "sha256"),
    proofId: claims.jti,
    proofExpiresAt: new Date((claims.exp + CLOCK_TOLERANCE_SECONDS) * 1000),
  };
}

async function verifiedClaims(identity: NodeIdentity, now: Date): Promise<NodeProofClaims | undefined> {
  try {
    const key = await importJWK({ ...identity.public_key, alg: NODE_KEY_ALG }, NODE_KEY_ALG);
    const { payload } = await jwtVerify(identity.proof, key, {
      algorithms: [NODE_KEY_ALG],
      audience: NODE_PROOF_AUDIENCE,
      currentDate: now,
      maxTokenAge: NODE_PROOF_MAX_AGE_SECONDS,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ["sub", "iat", "exp", "jti"],
    });
    const parsed = v.safeParse(NodeProofClaims, payload);
    if (!parsed.success || parsed.output.exp - parsed.output.iat > NODE_PROOF_MAX_AGE_SECONDS) return undefined;
    return parsed.output;
  } catch {
    return undefined;
  }
}
