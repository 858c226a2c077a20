import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { serveApp } from "../../lib/serve";
import { caDigest, fetchWithCa } from "../../lib/tls-fetch";
import { newWorkerCertificateRequest } from "../../worker-node/node-manager/worker-api-certificate";
import { loadConfig } from "../config";
import { openClusterCa } from "./cluster-ca";
import { joinCommand } from "./join-command";
import { listenerHosts, loadListenerTls } from "./listener-tls";
import { issueWorkerApiTls } from "./worker-certificate";

const dirs: string[] = [];
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), "cynode-ca-"));
  dirs.push(d);
  return d;
};
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const hello = new Hono().get("/", (c) => c.text("hello"));

describe("cluster CA", () => {
  test("is made once with a 0600 key, reused after, and its server certificate is trusted by it alone", async () => {
    const dir = await tempDir();
    const ca = await openClusterCa(dir);
    expect((await stat(join(dir, "tls", "ca.key"))).mode & 0o777).toBe(0o600);
    expect((await openClusterCa(dir)).pem).toBe(ca.pem);
    const tls = await ca.issueServer(["localhost", "127.0.0.1"]);
    expect((await stat(join(dir, "tls", "server.key"))).mode & 0o777).toBe(0o600);
    const server = serveApp(hello, { hostname: "127.0.0.1", port: 0 }, { tls });
    try {
      const url = `https://127.0.0.1:${server.port}/`;
      expect(await (await fetchWithCa(fetch, ca.pem)(url)).text()).toBe("hello");
      expect(await fetch(url).catch((e: Error) => e.message)).toMatch(/certificate/i);
      const other = await openClusterCa(await tempDir());
      expect(await fetchWithCa(fetch, other.pem)(url).catch((e: Error) => e.message)).toMatch(/certificate/i);
    } finally {
      await server.stop(0);
    }
  });

  test("signs a node's certificate request for its Worker API host; refuses a bad request with 400", async () => {
    const ca = await openClusterCa(await tempDir());
    const req = await newWorkerCertificateRequest("node-a");
    const issued = await issueWorkerApiTls(ca, req.csrPem, "https://127.0.0.1:1234");
    expect(issued!.ca_pem).toBe(ca.pem);
    const server = serveApp(
      hello,
      { hostname: "127.0.0.1", port: 0 },
      { tls: { cert: issued!.cert_pem, key: req.keyPem } },
    );
    try {
      const res = await fetchWithCa(fetch, ca.pem)(`https://127.0.0.1:${server.port}/`);
      expect(res.status).toBe(200);
    } finally {
      await server.stop(0);
    }
    expect(await issueWorkerApiTls(undefined, req.csrPem, "https://x:1")).toBeUndefined();
    expect(await issueWorkerApiTls(ca, undefined, "https://x:1")).toBeUndefined();
    const bad = await issueWorkerApiTls(ca, "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n", "https://x:1").catch(
      (e: { status?: number }) => e.status,
    );
    expect(bad).toBe(400);
  });
});

describe("listener TLS and join-command", () => {
  test("--tls auto serves the CA, forces an https public URL, and join-command prints its digest but no PSK", async () => {
    const stateDir = await tempDir();
    const config = loadConfig({ NODE_REGISTRATION_PSK: "secret-psk" }, { stateDir, tls: "auto" });
    expect(config.ORCHESTRATOR_PUBLIC_URL).toBe("https://localhost:12082");
    await expect(joinCommand(config)).rejects.toThrow("start the orchestrator once with --tls auto");
    const tls = await loadListenerTls(config);
    expect(tls.gateway).toBe(tls.controlPlane);
    const out = await joinCommand(config);
    expect(out).toContain(`ORCHESTRATOR_CA_SHA256=${caDigest(tls.caPem!)}`);
    expect(out).toContain("ORCHESTRATOR_URL=https://localhost:12082");
    expect(out).not.toContain("secret-psk");
  });

  test("files: pairs are read, an unreadable one is named, half a pair is a config error", async () => {
    const dir = await tempDir();
    const ca = await openClusterCa(dir);
    const { cert, key } = await ca.issueServer(["localhost"]);
    await Bun.write(join(dir, "c.pem"), cert);
    await Bun.write(join(dir, "k.pem"), key);
    const env = {
      CONTROL_PLANE_TLS_CERT_FILE: join(dir, "c.pem"),
      CONTROL_PLANE_TLS_KEY_FILE: join(dir, "k.pem"),
      ORCHESTRATOR_TLS_CA_FILE: join(dir, "tls", "ca.pem"),
    };
    const tls = await loadListenerTls(loadConfig(env, { stateDir: dir }));
    expect(tls).toEqual({ gateway: undefined, controlPlane: { cert, key }, caPem: ca.pem });
    expect(await joinCommand(loadConfig(env, { stateDir: dir }))).toContain(caDigest(ca.pem));
    await expect(
      loadListenerTls(loadConfig({ ...env, CONTROL_PLANE_TLS_KEY_FILE: join(dir, "none") }, { stateDir: dir })),
    ).rejects.toThrow("CONTROL_PLANE_TLS_KEY_FILE: cannot read");
    expect(() => loadConfig({ USER_GATEWAY_TLS_CERT_FILE: "x" }, { stateDir: dir })).toThrow("go together");
    await expect(joinCommand(loadConfig({}, { stateDir: dir }))).rejects.toThrow("no cluster CA");
  });

  test("listener hosts cover loopback, the host name and the public host", () => {
    expect(listenerHosts({ ORCHESTRATOR_PUBLIC_URL: "https://orch.example:12082" }, "box")).toEqual([
      "localhost",
      "127.0.0.1",
      "::1",
      "box",
      "orch.example",
    ]);
  });
});
