/**
 * What a restricted job's pod gets (decision 28): the node's broker for that job, on a socket in the job's own
 * directory that its sidecar alone mounts; the sidecar's egress listener; and the proxy variables its sandbox is
 * given. The sandbox itself has no network and no resolver: every name is resolved by the node.
 */
import { join } from "node:path";
import { EGRESS_PROXY_ADDRESS } from "../../contracts/egress";
import type { RunJobRequest } from "../../contracts/worker-api";
import type { Logger } from "../../lib/log";
import { startEgressBroker, type EgressBroker } from "./broker";

/** Where a sidecar mounts its job's broker directory, and the socket in it. */
export const SIDECAR_EGRESS_DIR = "/run/egress";
const BROKER_SOCKET = "egress.sock";

const PROXY_URL = `http://${EGRESS_PROXY_ADDRESS}`;
const LOCAL = "localhost,127.0.0.1";
/** What a restricted sandbox is told: its pod's proxy for HTTP and HTTPS, loopback (its inference) direct. */
export const EGRESS_ENV = {
  HTTP_PROXY: PROXY_URL,
  HTTPS_PROXY: PROXY_URL,
  http_proxy: PROXY_URL,
  https_proxy: PROXY_URL,
  NO_PROXY: LOCAL,
  no_proxy: LOCAL,
};

/** The sidecar's egress settings: listen in the pod, pass to the broker. */
export const sidecarEgressEnv = () => ({
  EGRESS_PROXY_LISTEN: EGRESS_PROXY_ADDRESS,
  EGRESS_UPSTREAM_SOCKET: `${SIDECAR_EGRESS_DIR}/${BROKER_SOCKET}`,
});

export const isRestricted = (job: RunJobRequest) => job.sandbox.network_policy === "restricted";

/** Starts the job's broker under `<mountRoot>/<job id>/egress`, with the job's allowed hosts. */
export function startJobBroker(mountRoot: string, job: RunJobRequest, log: Logger): Promise<EgressBroker> {
  return startEgressBroker({
    socket: join(mountRoot, job.job_id, "egress", BROKER_SOCKET),
    allowedHosts: job.sandbox.egress?.allowed_hosts ?? [],
    log: log.child({ job_id: job.job_id }),
  });
}
