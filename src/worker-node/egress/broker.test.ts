import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { memoryLogger } from "../../lib/log";
import { reply, startEgressTestHosts, type EgressTestHosts } from "../../testing/egress-test-hosts";
import { until } from "../../testing/until";
import { originHead, startEgressBroker, type EgressBroker } from "./broker";

let hosts: EgressTestHosts;
let dir: string;

beforeAll(async () => {
  hosts = await startEgressTestHosts();
  dir = await mkdtemp(join(tmpdir(), "cynode-broker-"));
});
afterAll(async () => {
  await hosts.stop();
  await rm(dir, { recursive: true, force: true });
});

async function broker(allowedHosts: string[], resolve?: (h: string) => Promise<string[]>): Promise<EgressBroker> {
  return startEgressBroker({
    socket: join(dir, `${crypto.randomUUID()}.sock`),
    allowedHosts,
    log: memoryLogger(),
    resolve,
  });
}

/** Opens a connection to the broker, sends `text`, and reads everything until the broker closes. */
async function exchange(b: EgressBroker, text: string): Promise<string> {
  const s = connect(b.socket);
  s.write(text);
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

/** A CONNECT tunnel through the broker, then HTTPS inside it, verified against the test CA. */
async function httpsThrough(b: EgressBroker, hostPort: string, path: string): Promise<string> {
  const s: Socket = connect(b.socket);
  s.write(`CONNECT ${hostPort} HTTP/1.1\r\nHost: ${hostPort}\r\n\r\n`);
  const established = await new Promise<string>((resolve) => s.once("data", (d) => resolve(String(d))));
  expect(established).toStartWith("HTTP/1.1 200 ");
  const tls = tlsConnect({ socket: s, ca: hosts.caPem, servername: undefined, host: hostPort.split(":")[0] });
  tls.write(`GET ${path} HTTP/1.1\r\nHost: ${hostPort}\r\nConnection: close\r\n\r\n`);
  const chunks: Buffer[] = [];
  for await (const c of tls) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

const get = (hostPort: string, path = "/x") =>
  `GET http://${hostPort}${path} HTTP/1.1\r\nHost: ${hostPort}\r\nProxy-Connection: keep-alive\r\n\r\n`;

describe("the egress broker", () => {
  it("fetches an allowed plain HTTP host named exactly, and records the attempt with its bytes", async () => {
    const b = await broker([hosts.http]);
    const res = await exchange(b, get(hosts.http, "/fetched"));
    expect(res).toStartWith("HTTP/1.1 200");
    expect(res).toEndWith(reply("http /fetched"));
    await until(() => b.attempts().length === 1 && b.attempts()[0]!.bytes_received > 0, "the attempt recorded");
    const [a] = b.attempts();
    expect(a).toMatchObject({
      host: "127.0.0.2",
      port: Number(hosts.http.split(":")[1]),
      kind: "http",
      decision: "allowed",
      address: "127.0.0.2",
    });
    expect(a!.bytes_sent).toBeGreaterThan(0);
    expect(a!.bytes_received).toBe(Buffer.byteLength(res));
    expect(b.refused()).toBe(false);
    await b.stop();
  });

  it("tunnels HTTPS end to end through CONNECT", async () => {
    const b = await broker([hosts.https]);
    const res = await httpsThrough(b, hosts.https, "/tls");
    expect(res).toEndWith(reply("https /tls"));
    await until(() => (b.attempts()[0]?.bytes_received ?? 0) > 0, "the tunnel recorded");
    expect(b.attempts()[0]).toMatchObject({ kind: "connect", decision: "allowed" });
    await b.stop();
  });

  it("refuses a host that is not listed with 403 ext_net_required, without connecting to it", async () => {
    const b = await broker([hosts.http]);
    const before = hosts.hits.refused;
    const res = await exchange(b, get(hosts.refused));
    expect(res).toStartWith("HTTP/1.1 403");
    expect(res).toContain(`ext_net_required: ${hosts.refused} blocked (not in the job's allowed hosts)`);
    expect(res).toContain("application/problem+json");
    expect(hosts.hits.refused).toBe(before);
    await until(() => b.attempts().length === 1, "the refusal recorded");
    expect(b.attempts()[0]).toMatchObject({ host: "127.0.0.3", decision: "refused", bytes_sent: 0, bytes_received: 0 });
    expect(b.refused()).toBe(true);
    await b.stop();
  });

  it("refuses a name whose address is private and not named, checking the resolved address", async () => {
    const port = hosts.http.split(":")[1];
    const b = await broker([`localhost:${port}`, "*.example.test"], async () => ["10.1.2.3"]);
    const viaName = await exchange(b, get(`localhost:${port}`));
    expect(viaName).toStartWith("HTTP/1.1 403");
    expect(viaName).toContain("10.1.2.3 is a private address that no entry names");
    const viaWildcard = await exchange(b, `CONNECT api.example.test:443 HTTP/1.1\r\n\r\n`);
    expect(viaWildcard).toContain("ext_net_required: api.example.test:443 blocked");
    await b.stop();
  });
});

describe("the egress broker's address checks and errors", () => {
  it("reaches a private address a name resolves to when an entry names that address too", async () => {
    const port = hosts.http.split(":")[1];
    const b = await broker([`mirror.test:${port}`, hosts.http], async () => ["127.0.0.2"]);
    const res = await exchange(b, get(`mirror.test:${port}`, "/mirror"));
    expect(res).toEndWith(reply("http /mirror"));
    await b.stop();
  });

  it("answers 502 when an allowed destination cannot be reached or resolved", async () => {
    const b = await broker(["127.0.0.2:1", "nowhere.invalid"], async () => {
      throw new Error("ENOTFOUND");
    });
    const closed = await exchange(b, get("127.0.0.2:1"));
    expect(closed).toStartWith("HTTP/1.1 502");
    expect(closed).toContain("connection failed");
    expect(await exchange(b, get("nowhere.invalid"))).toContain("the name does not resolve: ENOTFOUND");
    await until(() => b.attempts().length === 2, "both recorded");
    expect(b.attempts().map((a) => a.decision)).toEqual(["allowed", "allowed"]);
    expect(b.refused()).toBe(false);
    await b.stop();
  });

  it("answers 503 past its connection cap", async () => {
    const b = await startEgressBroker({
      socket: join(dir, "capped.sock"),
      allowedHosts: [],
      log: memoryLogger(),
      maxConnections: 1,
    });
    const idle = connect(b.socket);
    await new Promise((resolve) => idle.once("connect", resolve));
    expect(await exchange(b, get(hosts.http))).toStartWith("HTTP/1.1 503");
    idle.destroy();
    await b.stop();
  });

  it("answers 400 to anything that is not a forward-proxy request, and listens on a socket any uid may open", async () => {
    const b = await broker([]);
    expect(await exchange(b, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n")).toStartWith("HTTP/1.1 400");
    expect((await stat(b.socket)).mode & 0o777).toBe(0o666);
    expect(b.attempts()).toEqual([]);
    await b.stop();
  });

  it("turns a plain request into origin form with one request per connection and no proxy headers", () => {
    const head =
      "GET http://a.test/p?q=1 HTTP/1.1\r\nProxy-Connection: keep-alive\r\nConnection: keep-alive\r\nAccept: */*";
    expect(originHead(head, { kind: "http", host: "a.test", port: 80, method: "GET", path: "/p?q=1" })).toBe(
      "GET /p?q=1 HTTP/1.1\r\nHost: a.test\r\nAccept: */*\r\nConnection: close\r\n\r\n",
    );
  });
});
