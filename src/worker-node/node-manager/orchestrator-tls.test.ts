import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { serveApp, type Served } from "../../lib/serve";
import { caDigest, isCertificateError, parseCaPin } from "../../lib/tls-fetch";
import { openClusterCa, type ClusterCa } from "../../orchestrator/tls/cluster-ca";
import { clusterCaRoute } from "../../orchestrator/control-plane/cluster-ca";
import { OrchestratorError } from "./orchestrator-client";
import { orchestratorCa, trustedOrchestratorFetch } from "./orchestrator-tls";
import { issuedWorkerTls, newWorkerCertificateRequest, wantsClusterCertificate } from "./worker-api-certificate";

let dir: string;
let ca: ClusterCa;
let server: Served;
let url: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cynode-node-tls-"));
  ca = await openClusterCa(dir);
  const app = new Hono().route("/", clusterCaRoute(ca.pem)).get("/hello", (c) => c.text("hi"));
  server = serveApp(app, { hostname: "127.0.0.1", port: 0 }, { tls: await ca.issueServer(["127.0.0.1"]) });
  url = `https://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server.stop(0);
  await rm(dir, { recursive: true, force: true });
});

const cfg = (o: { ca_file?: string; ca_sha256?: string }) => ({
  orchestrator: {
    url,
    registration_psk_env: "X",
    timeouts: { connect_seconds: 5, request_seconds: 5 },
    capability_report_interval_seconds: 60,
    ...o,
  },
});

describe("the node's trust in the control-plane", () => {
  test("a matching pin fetches the CA once and then trusts it alone", async () => {
    let calls = 0;
    const counting = ((i: string | URL | Request, init?: RequestInit) => {
      calls++;
      return fetch(i, init);
    }) as typeof fetch;
    const trusted = trustedOrchestratorFetch(cfg({ ca_sha256: caDigest(ca.pem) }), counting);
    expect(await (await trusted(`${url}/hello`)).text()).toBe("hi");
    expect(await (await trusted(`${url}/hello`)).text()).toBe("hi");
    expect(calls).toBe(3); // the CA once, then two calls
  });

  test("a wrong pin is a refusal (no retry mends it), naming both digests", async () => {
    const pin = `sha256:${"0".repeat(64)}`;
    const err = await orchestratorCa(cfg({ ca_sha256: pin }), fetch).catch((e) => e);
    expect(err).toBeInstanceOf(OrchestratorError);
    expect(err.message).toBe(
      `orchestrator CA does not match ORCHESTRATOR_CA_SHA256: it is ${caDigest(ca.pem)}, pinned ${pin}`,
    );
  });

  test("a CA file is trusted; an unreadable one is a refusal; an unreachable orchestrator is asked again", async () => {
    await Bun.write(join(dir, "ca.pem"), ca.pem);
    expect(await orchestratorCa(cfg({ ca_file: join(dir, "ca.pem") }), fetch)).toBe(ca.pem);
    await expect(orchestratorCa(cfg({ ca_file: join(dir, "none") }), fetch)).rejects.toThrow("cannot read");
    expect(await orchestratorCa(cfg({}), fetch)).toBeUndefined();
    let fail = true;
    const flaky = ((i: string | URL | Request, init?: RequestInit) => {
      if (fail) {
        fail = false;
        return Promise.reject(new Error("ECONNREFUSED"));
      }
      return fetch(i, init);
    }) as typeof fetch;
    const trusted = trustedOrchestratorFetch(cfg({ ca_sha256: caDigest(ca.pem) }), flaky);
    await expect(trusted(`${url}/hello`)).rejects.toThrow("ECONNREFUSED");
    expect((await trusted(`${url}/hello`)).status).toBe(200);
  });

  test("a server without a CA (an error answer), or answering something else, is refused", async () => {
    const none = serveApp(new Hono().route("/", clusterCaRoute(undefined)), { hostname: "127.0.0.1", port: 0 });
    const junk = serveApp(
      new Hono().get("/v1/cluster/ca", (c) => c.text("nope")),
      { hostname: "127.0.0.1", port: 0 },
    );
    try {
      const at = (port: number) => ({ orchestrator: { ...cfg({}).orchestrator, url: `http://127.0.0.1:${port}` } });
      const pin = caDigest(ca.pem);
      await expect(
        orchestratorCa({ orchestrator: { ...at(none.port).orchestrator, ca_sha256: pin } }, fetch),
      ).rejects.toThrow("orchestrator CA not available");
      await expect(
        orchestratorCa({ orchestrator: { ...at(junk.port).orchestrator, ca_sha256: pin } }, fetch),
      ).rejects.toThrow("not a PEM certificate");
    } finally {
      await Promise.all([none.stop(0), junk.stop(0)]);
    }
  });

  test("pins, certificate errors, and when a node asks for its Worker API certificate", async () => {
    expect(parseCaPin(`SHA256:${"A".repeat(64)}`)).toBe(`sha256:${"a".repeat(64)}`);
    expect(parseCaPin("sha256:12")).toBeUndefined();
    expect(isCertificateError(await fetch(`${url}/hello`).catch((e) => e))).toBe(true);
    expect(isCertificateError(new Error("ECONNREFUSED"))).toBe(false);
    const pinned = { orchestrator: { ca_sha256: "sha256:x" }, worker_api: {} } as never;
    expect(wantsClusterCertificate(pinned)).toBe(true);
    expect(wantsClusterCertificate({ orchestrator: {}, worker_api: {} } as never)).toBe(false);
    const req = await newWorkerCertificateRequest("n");
    expect(() => issuedWorkerTls(req, undefined)).toThrow("issued no Worker API certificate");
    expect(issuedWorkerTls(req, { cert_pem: "C" })).toEqual({ cert: "C", key: req.keyPem });
  });
});
