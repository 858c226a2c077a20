import { afterAll, describe, expect, it } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fetchWithCa } from "../../lib/tls-fetch";
import { openClusterCa } from "../../orchestrator/tls/cluster-ca";
import { testNodeConfig, testNodeContext } from "../../testing/node-config";
import { createNodeMetrics } from "../metrics";
import { openTelemetryStore } from "../telemetry/store";
import { newWorkerCertificateRequest } from "./worker-api-certificate";
import { listenWorkerApi } from "./worker-api-listener";

const dir = await mkdtemp(join(tmpdir(), "cynode-worker-tls-"));
const ca = await openClusterCa(dir);
afterAll(() => rm(dir, { recursive: true, force: true }));

async function listener(yaml: string, env: Record<string, string> = {}) {
  const config = await testNodeConfig({ yaml, env: { NODE_SLUG: "tls-node", ...env } });
  const store = openTelemetryStore(config.storage.state_dir);
  const api = listenWorkerApi(testNodeContext(config, { notReady: "starting" }), {
    runner: { run: async () => Promise.reject(new Error("no jobs here")), cancel: async () => false },
    inference: { relaySocket: () => undefined },
    metrics: createNodeMetrics(),
    store,
    podmanVersion: "4.3.1",
  });
  const close = async () => {
    await api.stop(0);
    store.close();
  };
  return { api, close };
}

const trusted = fetchWithCa(fetch, ca.pem);

describe("the Worker API over TLS", () => {
  it("serves HTTPS with the worker_api.tls files and advertises https", async () => {
    const { cert, key } = await ca.issueServer(["127.0.0.1"]);
    await Bun.write(join(dir, "w.pem"), cert);
    await Bun.write(join(dir, "w.key"), key);
    const yaml = `worker_api: { listen_host: 127.0.0.1, listen_port: 0, tls: { cert_file: ${join(dir, "w.pem")}, key_file: ${join(dir, "w.key")} } }\n`;
    const { api, close } = await listener(yaml);
    try {
      expect(api.advertisedUrl).toBe(`https://127.0.0.1:${api.port}`);
      expect((await trusted(`${api.advertisedUrl}/healthz`)).status).toBe(200);
    } finally {
      await close();
    }
    const missing = `worker_api: { listen_host: 127.0.0.1, listen_port: 0, tls: { cert_file: ${join(dir, "none")}, key_file: ${join(dir, "w.key")} } }\n`;
    await expect(listener(missing)).rejects.toThrow("cannot read worker_api.tls.cert_file");
  });

  it("a pinning node advertises https and switches to the issued certificate on the same port", async () => {
    const yaml = "worker_api: { listen_host: 127.0.0.1, listen_port: 0, public_base_url: http://127.0.0.1:1 }\n";
    const { api, close } = await listener(yaml, { ORCHESTRATOR_CA_SHA256: `sha256:${"a".repeat(64)}` });
    try {
      expect(api.advertisedUrl).toBe("https://127.0.0.1:1");
      const port = api.port;
      const req = await newWorkerCertificateRequest("tls-node");
      await api.useTls({ cert: await ca.signRequest(req.csrPem, ["127.0.0.1"]), key: req.keyPem });
      expect(api.url.protocol).toBe("https:");
      expect((await trusted(`https://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      await close();
    }
  });
});
