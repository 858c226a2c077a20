/**
 * How the node trusts the control-plane: the PEM CA in `orchestrator.ca_file`, or the CA the control-plane serves at
 * /v1/cluster/ca once its digest matches `orchestrator.ca_sha256` (fetched once without verification, k3s-style);
 * then that CA alone for every call. Neither set: the system roots (plain HTTP needs none).
 */
import { readFile } from "node:fs/promises";
import { CONTROL_PLANE_API as API } from "../../contracts/routes";
import { caDigest, fetchWithCa } from "../../lib/tls-fetch";
import type { NodeConfig } from "../config";
import { OrchestratorError } from "./orchestrator-client";

type TrustConfig = Pick<NodeConfig, "orchestrator">;

/** Refusals that no retry mends: a CA that does not match the pin, or is not a CA at all. */
const refused = (message: string) => new OrchestratorError(0, message);

async function pinnedCa(config: TrustConfig, pin: string, doFetch: typeof fetch): Promise<string> {
  const url = config.orchestrator.url + API.clusterCa.path();
  // Verification is off for this one request only: what it answers is trusted just when its digest is the pin.
  const res = await doFetch(url, {
    signal: AbortSignal.timeout(config.orchestrator.timeouts.request_seconds * 1000),
    tls: { rejectUnauthorized: false },
  } as RequestInit);
  if (res.status !== 200) throw refused(`orchestrator CA not available at ${url}: HTTP ${res.status}`);
  const pem = await res.text();
  let digest: string;
  try {
    digest = caDigest(pem);
  } catch {
    throw refused(`orchestrator CA at ${url} is not a PEM certificate`);
  }
  if (digest !== pin)
    throw refused(`orchestrator CA does not match ORCHESTRATOR_CA_SHA256: it is ${digest}, pinned ${pin}`);
  return pem;
}

/** The CA the node trusts for the control-plane, or undefined (system roots). */
export async function orchestratorCa(config: TrustConfig, doFetch: typeof fetch): Promise<string | undefined> {
  const { ca_file, ca_sha256 } = config.orchestrator;
  if (ca_file)
    return readFile(ca_file, "utf8").catch((err: Error) => {
      throw refused(`cannot read orchestrator.ca_file ${ca_file}: ${err.message}`);
    });
  return ca_sha256 ? pinnedCa(config, ca_sha256, doFetch) : undefined;
}

/**
 * `fetch` for the control-plane: the first call settles the CA (a refusal is final; an unreachable orchestrator is
 * asked again on the next call), every call trusts only it.
 */
export function trustedOrchestratorFetch(config: TrustConfig, doFetch: typeof fetch = fetch): typeof fetch {
  let trusted: Promise<typeof fetch> | undefined;
  const settle = () => {
    trusted ??= orchestratorCa(config, doFetch).then(
      (ca) => fetchWithCa(doFetch, ca),
      (err) => {
        trusted = undefined;
        throw err;
      },
    );
    return trusted;
  };
  const call = async (input: string | URL | Request, init?: RequestInit) => (await settle())(input, init);
  return Object.assign(call, { preconnect: doFetch.preconnect }) as typeof fetch;
}
