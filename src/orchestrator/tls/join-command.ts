/**
 * `orchestrator join-command`: what a node needs to join this orchestrator over TLS, as node environment lines:
 * the control-plane URL and the cluster CA's digest (`sha256:<hex of DER>`, as kubeadm's CA cert hash). The PSK is
 * not printed: the operator copies it from where it is kept (its env, or the state dir file named here).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { caDigest } from "../../lib/tls-fetch";
import type { OrchestratorConfig } from "../config";
import { PSK_FILE } from "../start";

/** The cluster CA this configuration serves: `--tls auto`'s in the state dir, or ORCHESTRATOR_TLS_CA_FILE. */
async function clusterCaPem(config: OrchestratorConfig): Promise<string> {
  if (config.ORCHESTRATOR_TLS === "auto") {
    const path = join(config.CYNODE_STATE_DIR, "tls", "ca.pem");
    return readFile(path, "utf8").catch(() => {
      throw new Error(`no cluster CA in ${path} yet: start the orchestrator once with --tls auto`);
    });
  }
  if (config.ORCHESTRATOR_TLS_CA_FILE)
    return readFile(config.ORCHESTRATOR_TLS_CA_FILE, "utf8").catch((err: Error) => {
      throw new Error(`cannot read ORCHESTRATOR_TLS_CA_FILE: ${err.message}`);
    });
  throw new Error("no cluster CA: use --tls auto, or set ORCHESTRATOR_TLS_CA_FILE");
}

export async function joinCommand(config: OrchestratorConfig): Promise<string> {
  const digest = caDigest(await clusterCaPem(config));
  const psk = config.NODE_REGISTRATION_PSK
    ? "the orchestrator's NODE_REGISTRATION_PSK"
    : `the content of ${join(config.CYNODE_STATE_DIR, PSK_FILE)} on the orchestrator`;
  return [
    `ORCHESTRATOR_URL=${config.ORCHESTRATOR_PUBLIC_URL}`,
    `ORCHESTRATOR_CA_SHA256=${digest}`,
    `# NODE_REGISTRATION_PSK (or orchestrator.registration_psk_file): ${psk}`,
  ].join("\n");
}
