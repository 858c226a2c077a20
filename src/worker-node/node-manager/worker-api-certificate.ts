/**
 * The node's Worker API certificate from the cluster CA (`--tls auto` orchestrators): a node that pins the
 * control-plane's CA and names no `worker_api.tls` files makes a key (kept in memory, never sent) and a certificate
 * request for its Worker API host, sends the request with its registration and serves HTTPS with what comes back.
 */
import * as x509 from "../../lib/x509";
import type { TlsFiles } from "../../lib/serve";
import type { NodeConfig } from "../config";

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export type WorkerCertificateRequest = { csrPem: string; keyPem: string };

/** Whether this node asks the cluster CA for its Worker API certificate. */
export const wantsClusterCertificate = (config: Pick<NodeConfig, "orchestrator" | "worker_api">): boolean =>
  !config.worker_api.tls && Boolean(config.orchestrator.ca_file || config.orchestrator.ca_sha256);

export async function newWorkerCertificateRequest(nodeSlug: string): Promise<WorkerCertificateRequest> {
  const keys = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${nodeSlug}`,
    keys,
    signingAlgorithm: ALG,
  });
  const keyPem = x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", keys.privateKey), "PRIVATE KEY");
  return { csrPem: csr.toString("pem"), keyPem };
}

/** The listener's certificate and key once the orchestrator answered; a refusal when it issued none. */
export function issuedWorkerTls(request: WorkerCertificateRequest, issued: { cert_pem: string } | undefined): TlsFiles {
  if (!issued)
    throw new Error(
      "the orchestrator issued no Worker API certificate (it runs without --tls auto): set worker_api.tls.cert_file and key_file",
    );
  return { cert: issued.cert_pem, key: request.keyPem };
}
