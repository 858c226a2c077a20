/** The orchestrator's listener certificates and cluster CA, read from the files its configuration names. */
import { readFile } from "node:fs/promises";
import type { TlsFiles } from "../../lib/serve";
import type { OrchestratorConfig } from "../config";

export type OrchestratorTls = {
  gateway?: TlsFiles;
  controlPlane?: TlsFiles;
  /** The cluster CA (PEM): served to joining nodes, trusted for their Worker APIs. */
  caPem?: string;
};

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
  const [gateway, controlPlane, caPem] = await Promise.all([
    pair("USER_GATEWAY_TLS", config.USER_GATEWAY_TLS_CERT_FILE, config.USER_GATEWAY_TLS_KEY_FILE),
    pair("CONTROL_PLANE_TLS", config.CONTROL_PLANE_TLS_CERT_FILE, config.CONTROL_PLANE_TLS_KEY_FILE),
    config.ORCHESTRATOR_TLS_CA_FILE ? readPem("ORCHESTRATOR_TLS_CA_FILE", config.ORCHESTRATOR_TLS_CA_FILE) : undefined,
  ]);
  return { gateway, controlPlane, caPem };
}
