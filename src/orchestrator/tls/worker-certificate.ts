/** Registration's Worker API certificate: the cluster CA signs the node's request for its Worker API host. */
import { isIP } from "node:net";
import type { WorkerApiTls } from "../../contracts/worker-api-tls";
import { ProblemError } from "../../lib/http-problem";
import type { ClusterCa } from "./cluster-ca";

/** Signs `csrPem` for the host of `workerUrl`; nothing without a CA or a request; 400 for a request that is bad. */
export async function issueWorkerApiTls(
  ca: ClusterCa | undefined,
  csrPem: string | undefined,
  workerUrl: string | undefined,
): Promise<WorkerApiTls> {
  if (!ca || !csrPem || !workerUrl) return undefined;
  const host = new URL(workerUrl).hostname.replace(/^\[|\]$/g, "");
  try {
    const hosts = isIP(host) ? [host] : [host, "localhost"];
    return { cert_pem: await ca.signRequest(csrPem, hosts), ca_pem: ca.pem };
  } catch (err) {
    throw new ProblemError(400, `worker_api_csr: ${(err as Error).message}`);
  }
}
