/**
 * Restricted jobs end to end on real podman: sandbox (no network card, no resolver) → its pod's sidecar on
 * 127.0.0.1:3128 → the job's broker on the node → test hosts on this machine's loopback (127.0.0.2, 127.0.0.3),
 * which count as private and so must be named exactly. Ollama is the TEST DOUBLE.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import type { RunJobRequest } from "../../contracts/worker-api";
import { reply, startEgressTestHosts, type EgressTestHosts } from "../../testing/egress-test-hosts";
import { ensureProxyImage, PROXY_IMAGE, startInferenceRunner } from "../../testing/inference-runner";
import {
  startOllamaTestServer,
  testReply,
  type ChatMessage,
  type OllamaTestServer,
  type ScriptedReply,
} from "../../testing/ollama-test-server";
import { ensureSandboxImage, testPodman } from "../../testing/sandbox-fixture";

setDefaultTimeout(60_000);
const podman = testPodman();
const MODEL = "qwen3.5:0.8b";
let hosts: EgressTestHosts;
let ollama: OllamaTestServer;
let env: Awaited<ReturnType<typeof startInferenceRunner>>;

/** An agent that fetches the URL its goal names with wget (through the job's proxy), then gives up. */
const urlIn = (m: ChatMessage[]) => /http:\/\/\S+/.exec(m.find((x) => x.role === "user")?.content ?? "")![0];
const SCRIPTS: Record<string, ScriptedReply[]> = {
  "[fetch]": [
    (m) => ({ tool_calls: [{ name: "run_command", arguments: { argv: ["wget", "-q", "-O", "-", urlIn(m)] } }] }),
    { content: "the host could not be reached" },
  ],
};

beforeAll(async () => {
  await Promise.all([ensureSandboxImage(podman), ensureProxyImage(podman)]);
  hosts = await startEgressTestHosts();
  ollama = await startOllamaTestServer({ port: 0, models: [MODEL], scripts: SCRIPTS });
  env = await startInferenceRunner({ podman, upstreamUrl: ollama.url! });
}, 300_000);
afterAll(async () => {
  await env.stop();
  await ollama.stop();
  await hosts.stop();
});

function restricted(script: string, allowed: string[], sandbox: Partial<RunJobRequest["sandbox"]> = {}): RunJobRequest {
  const id = crypto.randomUUID();
  return {
    version: 1,
    task_id: `task-${id}`,
    job_id: id,
    sandbox: {
      command: ["sh", "-c", script],
      network_policy: "restricted",
      egress: { allowed_hosts: allowed },
      ...sandbox,
    },
  };
}

describe("restricted jobs in a pod without network (real podman)", () => {
  it("fetch the allowed host, get 403 for a refused one and an unlisted private address, and record each", async () => {
    const port = hosts.http.split(":")[1];
    const script = [
      `wget -q -O - http://${hosts.http}/fetched`,
      `wget -q -O - http://${hosts.refused}/ 2>&1 | grep -o '403 Forbidden'`,
      `wget -q -O - http://localhost.:${port}/ 2>&1 | grep -o '403 Forbidden'`,
      "echo $HTTP_PROXY $HTTPS_PROXY $http_proxy $https_proxy $NO_PROXY",
      "cat /sys/class/net/*/ifindex | wc -l",
    ].join("; ");
    const before = hosts.hits.refused;
    const res = await env.runner.run(restricted(script, [hosts.http, `localhost:${port}`]));
    expect(res.stdout).toBe(
      [
        reply("http /fetched").trim(),
        "403 Forbidden",
        "403 Forbidden",
        "http://127.0.0.1:3128 http://127.0.0.1:3128 http://127.0.0.1:3128 http://127.0.0.1:3128 localhost,127.0.0.1",
        "1",
        "",
      ].join("\n"),
    );
    expect(res.status).toBe("completed");
    expect(hosts.hits.refused).toBe(before);
    const summary = res.egress!.map(({ host, decision, reason }) => ({ host, decision, reason }));
    expect(summary).toEqual([
      { host: "127.0.0.2", decision: "allowed", reason: undefined },
      { host: "127.0.0.3", decision: "refused", reason: "not in the job's allowed hosts" },
      { host: "localhost", decision: "refused", reason: "127.0.0.1 is a private address that no entry names" },
    ]);
    expect(res.egress![0]!.bytes_received).toBeGreaterThan(reply("http /fetched").length);
    expect(await env.leftovers()).toEqual([]);
  });

  it("has no resolver and no route: names do not resolve and a direct connection fails", async () => {
    const script =
      "nslookup example.com >/dev/null 2>&1 && echo resolved; nc -w 2 1.1.1.1 80 </dev/null && echo connected; echo done";
    const res = await env.runner.run(restricted(script, ["example.com"]));
    expect(res.stdout).toBe("done\n");
    expect(res.egress).toEqual([]);
  });

  it("reaches a TLS host through CONNECT with the certificate checked end to end (the job's own HTTPS_PROXY)", async () => {
    const client = `const r = await fetch('https://${hosts.https}/tls', { tls: { ca: process.env.TEST_CA } }); console.log(r.status, await r.text());`;
    const j = restricted("", [hosts.https], { image: PROXY_IMAGE, env: { BUN_BE_BUN: "1", TEST_CA: hosts.caPem } });
    j.sandbox.command = ["-e", client];
    const res = await env.runner.run(j);
    expect(res.stdout).toBe(`200 ${reply("https /tls")}\n`);
    expect(res.egress).toMatchObject([{ host: "127.0.0.2", kind: "connect", decision: "allowed" }]);
  });

  it("serves inference and egress from one sidecar when a job is both", async () => {
    const body = JSON.stringify({ model: MODEL, prompt: "both", stream: false });
    // busybox wget ignores NO_PROXY: `-Y off` keeps the model call off the proxy, as cynode-prompt does.
    const script = `wget -Y off -q -O - --post-data '${body}' "$OLLAMA_BASE_URL/api/generate"; echo; wget -q -O - http://${hosts.http}/both`;
    const res = await env.runner.run(restricted(script, [hosts.http], { use_inference: true }));
    const [generated, fetched] = res.stdout.split("\n");
    expect(JSON.parse(generated!).response).toBe(testReply("both"));
    expect(fetched).toBe(reply("http /both").trim());
    expect(res.egress?.map((a) => a.host)).toEqual(["127.0.0.2"]);
    expect(await env.leftovers()).toEqual([]);
  });
});

describe("restricted agent jobs (real podman, the Ollama double)", () => {
  const agent = (url: string, allowed: string[]): RunJobRequest => {
    const j = restricted("", allowed);
    const spec = {
      protocol_version: "1.0",
      job_id: j.job_id,
      task_id: j.task_id,
      constraints: { max_runtime_seconds: 60, max_output_bytes: 65536, ext_net_allowed: true },
      inference: { allowed_models: [MODEL] },
      context: { task_context: `fetch ${url} [fetch]` },
    };
    return { ...j, sandbox: { ...j.sandbox, command: undefined, job_spec_json: JSON.stringify(spec) } };
  };

  it("runs the agent's tools in the restricted pod: an allowed host is fetched through the proxy", async () => {
    const res = await env.runner.run(agent(`http://${hosts.http}/agent`, [hosts.http]));
    expect(res.sba_result!.steps[1]).toMatchObject({ tool: "run_command", exit_code: 0, output: reply("http /agent") });
    expect(res.sba_result!.failure_code).toBeNull();
    expect(res.egress!.map((e) => e.decision)).toEqual(["allowed"]);
  });

  it("ends with ext_net_required when a refused connection made the agent give up", async () => {
    const res = await env.runner.run(agent(`http://${hosts.refused}/`, [hosts.http]));
    expect(res.status).toBe("failed");
    expect(res.sba_result).toMatchObject({ status: "failure", failure_code: "ext_net_required" });
    expect(res.sba_result!.failure_message).toContain("network required but denied");
    expect(res.egress!.map((e) => e.decision)).toEqual(["refused"]);
    expect(await env.leftovers()).toEqual([]);
  });
});
