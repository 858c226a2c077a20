import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memoryLogger } from "../lib/log";
import { reply, startEgressTestHosts, type EgressTestHosts } from "../testing/egress-test-hosts";
import { startEgressBroker, type EgressBroker } from "../worker-node/egress/broker";
import { startConfiguredEgress, startEgressListener, type EgressListener } from "./egress-listener";
import { loadConfig } from "./config";

let hosts: EgressTestHosts;
let dir: string;
let broker: EgressBroker;
let listener: EgressListener;
const log = memoryLogger();

beforeAll(async () => {
  hosts = await startEgressTestHosts();
  dir = await mkdtemp(join(tmpdir(), "cynode-egress-listener-"));
  broker = await startEgressBroker({ socket: join(dir, "egress.sock"), allowedHosts: [hosts.http, hosts.https], log });
  listener = await startEgressListener({
    listen: { hostname: "127.0.0.1", port: 0 },
    upstreamSocket: broker.socket,
    log,
  });
});
afterAll(async () => {
  await listener.stop();
  await broker.stop();
  await hosts.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Sends raw bytes to a listener and reads its whole answer. */
async function raw(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const s = connect(Number(port), hostname);
  s.write(text);
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

describe("the sidecar's egress listener", () => {
  it("passes plain HTTP and HTTPS (CONNECT) to the node's broker, which fetches the allowed hosts", async () => {
    const plain = await fetch(`http://${hosts.http}/plain`, { proxy: listener.url });
    expect(await plain.text()).toBe(reply("http /plain"));
    const tls = await fetch(`https://${hosts.https}/tls`, { proxy: listener.url, tls: { ca: hosts.caPem } });
    expect(await tls.text()).toBe(reply("https /tls"));
    expect(broker.attempts().map((a) => [a.kind, a.decision])).toEqual([
      ["http", "allowed"],
      ["connect", "allowed"],
    ]);
  });

  it("relays the node's 403 for a refused host", async () => {
    const res = await fetch(`http://${hosts.refused}/`, { proxy: listener.url });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { detail: string }).detail).toStartWith(`ext_net_required: ${hosts.refused} blocked`);
  });

  it("answers 400 to a request that is not for a proxy, without bothering the node", async () => {
    const before = broker.attempts().length;
    expect(await raw(listener.url, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")).toStartWith("HTTP/1.1 400");
    expect(broker.attempts().length).toBe(before);
  });

  it("answers 502 when the node's broker is gone", async () => {
    const orphan = await startEgressListener({
      listen: { hostname: "127.0.0.1", port: 0 },
      upstreamSocket: join(dir, "missing.sock"),
      log,
      maxConnections: 1,
    });
    expect(await raw(orphan.url, `GET http://${hosts.http}/ HTTP/1.1\r\n\r\n`)).toContain("the node's egress broker");
    await orphan.stop();
  });

  it("starts from the configuration only when both its variables are set", async () => {
    const env = { INFERENCE_PROXY_SOCKET: "/tmp/x.sock" };
    expect(startConfiguredEgress(loadConfig(env), log)).toBeUndefined();
    const both = loadConfig({ ...env, EGRESS_PROXY_LISTEN: "127.0.0.1:0", EGRESS_UPSTREAM_SOCKET: broker.socket });
    const started = await startConfiguredEgress(both, log);
    expect(started?.url).toStartWith("http://127.0.0.1:");
    await started?.stop();
    expect(() => loadConfig({ ...env, EGRESS_PROXY_LISTEN: "127.0.0.1:3128" })).toThrow(
      "EGRESS_PROXY_LISTEN and EGRESS_UPSTREAM_SOCKET go together",
    );
    expect(() => loadConfig({ ...env, EGRESS_PROXY_LISTEN: "x", EGRESS_UPSTREAM_SOCKET: "rel" })).toThrow(
      "must be [host]:port",
    );
  });
});
