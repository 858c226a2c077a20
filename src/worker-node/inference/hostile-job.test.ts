/**
 * A hostile inference job on real podman: from inside its no-network pod it speaks raw HTTP with busybox `nc` to the
 * sidecar at 127.0.0.1:11434 and tries Ollama's management API, other models and path tricks. The upstream is the
 * Ollama TEST DOUBLE, which records every request that reaches it.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { startOllamaTestServer, type OllamaTestServer } from "../../testing/ollama-test-server";
import { ensureSandboxImage, testPodman } from "../../testing/sandbox-fixture";
import { ensureProxyImage, inferenceShellJob, startInferenceRunner } from "../../testing/inference-runner";

setDefaultTimeout(90_000);
const podman = testPodman();
const MODEL = "qwen3.5:0.8b";
const OTHER = "other-model:1b";
let upstream: OllamaTestServer;
let env: Awaited<ReturnType<typeof startInferenceRunner>>;

beforeAll(async () => {
  await Promise.all([ensureSandboxImage(podman), ensureProxyImage(podman)]);
  upstream = await startOllamaTestServer({ port: 0, models: [MODEL, OTHER, "secret:70b"] });
  env = await startInferenceRunner({ podman, upstreamUrl: upstream.url! });
}, 300_000);
afterAll(async () => {
  await env.stop();
  await upstream.stop();
});

/** A shell line sending one raw request with nc and printing `<label> <status>`. */
function rawRequest(label: string, method: string, target: string, body = "{}"): string {
  const head = `${method} ${target} HTTP/1.1\\r\\nHost: localhost\\r\\nContent-Type: application/json\\r\\nContent-Length: ${body.length}\\r\\n\\r\\n`;
  return `printf '${head.replaceAll("%", "%%")}%s' '${body}' | nc -w 10 127.0.0.1 11434 | head -n 1 | { read -r _ code _; echo "${label} $code"; }`;
}

const statuses = (stdout: string) =>
  Object.fromEntries(
    stdout
      .trim()
      .split("\n")
      .map((l) => l.split(" ") as [string, string]),
  );

describe("a hostile inference job (real podman)", () => {
  it("gets 403 for every management endpoint and path trick, and the upstream sees none of them", async () => {
    const before = upstream.requests.length;
    const attempts: [string, string, string, string?][] = [
      ["delete", "DELETE", "/api/delete", `{"model":"${MODEL}"}`],
      ["pull", "POST", "/api/pull", '{"model":"evil"}'],
      ["push", "POST", "/api/push", `{"model":"${MODEL}"}`],
      ["copy", "POST", "/api/copy", `{"source":"${MODEL}","destination":"x"}`],
      ["create", "POST", "/api/create", `{"model":"evil","from":"${MODEL}"}`],
      ["double-slash", "POST", "/api//pull"],
      ["dot-dot", "POST", "/api/chat/../pull"],
      ["escaped", "POST", "/api/%70ull"],
      ["absolute", "POST", "http://127.0.0.1:11434/api/pull"],
    ];
    const script = attempts.map(([label, method, target, body]) => rawRequest(label, method, target, body)).join("\n");
    const res = await env.runner.run(inferenceShellJob(script));
    expect(res.status).toBe("completed");
    const seen = statuses(res.stdout);
    console.log(`hostile job saw: ${JSON.stringify(seen)}; reached upstream: ${upstream.requests.length - before}`);
    expect(seen).toEqual({
      delete: "403",
      pull: "403",
      push: "403",
      copy: "403",
      create: "403",
      "double-slash": "403",
      "dot-dot": "403",
      escaped: "403",
      absolute: "400",
    });
    expect(upstream.requests.slice(before)).toEqual([]);
  });

  it("may use only its allowed models: others 403 and unseen upstream, /api/tags lists only its own", async () => {
    const before = upstream.requests.length;
    const script = [
      // busybox nc half-closes after sending, so the allowed request (answered by the model) goes by wget.
      `wget -q -O /dev/null --post-data '{"model":"${OTHER}","prompt":"hi","stream":false}' "$OLLAMA_BASE_URL/api/generate" && echo "mine 200"`,
      rawRequest("default", "POST", "/api/generate", `{"model":"${MODEL}","prompt":"hi","stream":false}`),
      rawRequest("secret", "POST", "/v1/chat/completions", '{"model":"secret:70b","messages":[]}'),
      `wget -q -O - "$OLLAMA_BASE_URL/api/tags" | grep -o '"name":"[^"]*"' | tr '\\n' ' ' | sed 's/^/tags /'`,
    ].join("\n");
    const res = await env.runner.run(inferenceShellJob(script, { allowed_models: [OTHER] }));
    expect(res.status).toBe("completed");
    const lines = res.stdout.trim().split("\n");
    expect(lines.slice(0, 3)).toEqual(["mine 200", "default 403", "secret 403"]);
    expect(lines[3]!.trim()).toBe(`tags "name":"${OTHER}"`);
    expect(
      upstream.requests.slice(before).map((r) => `${r.method} ${r.path} ${JSON.parse(r.body || "{}").model}`),
    ).toEqual([`POST /api/generate ${OTHER}`, "GET /api/tags undefined"]);
  });
});
