/** The orchestrator's listener certificates and cluster CA, read from the files its configuration names. */
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import type { TlsFiles } from "../../lib/serve";
import type { OrchestratorConfig } from "../config";
import { type ClusterCa, openClusterCa } from "./cluster-ca";

export type OrchestratorTls = {
  gateway?: TlsFiles;
  controlPlane?: TlsFiles;
  /** The cluster CA (PEM): served to joining nodes, trusted for their Worker APIs. */
  caPem?: string;
  /** With `--tls auto`: signs the nodes' Worker API certificate requests. */
  ca?: ClusterCa;
};

/** The names the listeners' own certificate is good for. */
export function listenerHosts(config: Pick<OrchestratorConfig, "ORCHESTRATOR_PUBLIC_URL">, host = hostname()) {
  const publicHost = new URL(config.ORCHESTRATOR_PUBLIC_URL).hostname.replace(/^\[|\]$/g, "");
  return [...new Set(["localhost", "127.0.0.1", "::1", host, publicHost])];
}

async function readPem(name: string, path: string): Promise<string> {
  return readFile(path, "utf8").catch((err: Error) => {
    throw new Error(`${name}: cannot read ${path}: ${err.message}`);
  });
}

async function pair(prefix: string, cert?: string, key?: string): Promise<TlsFiles | undefined> {
  if (!cert || !key) return undefined;
  return { cert: await readPem(`${prefix}_CERT_FILE`, cert), key: await readPem(`${prefix}_KEY_FILE`, key) };
}

export async function loadListenerTls(config: OrchestratorConfig): Promise<OrchestratorTls> {
  if (config.ORCHESTRATOR_TLS === "auto") {
    const ca = await openClusterCa(config.CYNODE_STATE_DIR);
    const server = await ca.issueServer(listenerHosts(config));
    return { gateway: server, controlPlane: server, caPem: ca.pem, ca };
  }
  const [gateway, controlPlane, caPem] = await Promise.all([
    pair("USER_GATEWAY_TLS", config.USER_GATEWAY_TLS_CERT_FILE, config.USER_GATEWAY_TLS_KEY_FILE),
    pair("CONTROL_PLANE_TLS", config.CONTROL_PLANE_TLS_CERT_FILE, config.CONTROL_PLANE_TLS_KEY_FILE),
    config.ORCHESTRATOR_TLS_CA_FILE ? readPem("ORCHESTRATOR_TLS_CA_FILE", config.ORCHESTRATOR_TLS_CA_FILE) : undefined,
  ]);
  return { gateway, controlPlane, caPem };
}
