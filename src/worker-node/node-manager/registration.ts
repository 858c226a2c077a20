/**
 * Registration (contracts 3.1 steps 4-5): the capability report with the PSK and the node's identity proof (a slug
 * already bound to a key is re-admitted only with it, decision 25). An orchestrator that answers and
 * refuses ends the start at once; one that does not answer yet is retried every second until the connect timeout.
 */
import type { NodeCapabilityReport } from "../../contracts/node-payloads";
import type { NodeContext } from "./node-context";
import { nodeIdentityProof, type NodeKey } from "./node-identity";
import { trustedOrchestratorFetch } from "./orchestrator-tls";
import { createOrchestratorClient, OrchestratorError, type OrchestratorClient } from "./orchestrator-client";

export const REGISTRATION_RETRY_MS = 1000;

/** The node's client for the orchestrator named in its config, from registration on. */
export function orchestratorClient(
  { config, log, now }: NodeContext,
  doFetch?: typeof fetch,
  workerApiCsr?: string,
  nodeKey?: NodeKey,
): OrchestratorClient {
  return createOrchestratorClient({
    baseUrl: config.orchestrator.url,
    psk: config.psk,
    log,
    requestTimeoutMs: config.orchestrator.timeouts.request_seconds * 1000,
    fetch: trustedOrchestratorFetch(config, doFetch),
    workerApiCsr,
    identity: nodeKey
      ? (report) =>
          nodeIdentityProof(nodeKey, {
            slug: report.node.node_slug,
            workerApiUrl: report.worker_api?.base_url ?? "",
            now: now(),
          })
      : undefined,
  });
}

export type RegistrationParts = {
  client: { register(report: NodeCapabilityReport): Promise<unknown> };
  collect: () => Promise<NodeCapabilityReport>;
  sleep: (ms: number) => Promise<void>;
};

export async function registerWithRetry({ config, state, log, now }: NodeContext, d: RegistrationParts): Promise<void> {
  state.notReady = "starting: registering with the orchestrator";
  const { url } = config.orchestrator;
  const deadline = now().getTime() + config.orchestrator.timeouts.connect_seconds * 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      await d.client.register(await d.collect());
      return;
    } catch (err) {
      const error = (err as Error).message;
      if (err instanceof OrchestratorError) throw new Error(error);
      if (now().getTime() >= deadline) throw new Error(`orchestrator unreachable at ${url}: ${error}`);
      if (attempt === 1) log.warn("orchestrator not reachable yet; retrying", { url, error });
      await d.sleep(REGISTRATION_RETRY_MS);
    }
  }
}
