/**
 * TEST SUPPORT: destinations for restricted-egress tests on this machine's loopback: an HTTP host on 127.0.0.2, a
 * host on 127.0.0.3 that must never be reached, and a TLS host on 127.0.0.2 whose certificate a test CA issued
 * for that address. Each counts the requests it answered.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openClusterCa } from "../orchestrator/tls/cluster-ca";

export const ALLOWED_ADDRESS = "127.0.0.2";
export const REFUSED_ADDRESS = "127.0.0.3";
export const reply = (who: string) => `hello from ${who}\n`;

export async function startEgressTestHosts() {
  const dir = await mkdtemp(join(tmpdir(), "cynode-egress-ca-"));
  const ca = await openClusterCa(dir);
  const tlsFiles = await ca.issueServer([ALLOWED_ADDRESS]);
  const hits = { http: 0, https: 0, refused: 0 };
  const serve = (hostname: string, who: keyof typeof hits, tls?: { cert: string; key: string }) =>
    Bun.serve({
      hostname,
      port: 0,
      tls,
      fetch(req) {
        hits[who]++;
        return new Response(reply(`${who} ${new URL(req.url).pathname}`));
      },
    });
  const http = serve(ALLOWED_ADDRESS, "http");
  const https = serve(ALLOWED_ADDRESS, "https", tlsFiles);
  const refused = serve(REFUSED_ADDRESS, "refused");
  return {
    hits,
    caPem: ca.pem,
    http: `${ALLOWED_ADDRESS}:${http.port}`,
    https: `${ALLOWED_ADDRESS}:${https.port}`,
    refused: `${REFUSED_ADDRESS}:${refused.port}`,
    async stop() {
      for (const s of [http, https, refused]) await s.stop(true);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
export type EgressTestHosts = Awaited<ReturnType<typeof startEgressTestHosts>>;
