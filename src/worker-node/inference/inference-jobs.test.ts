/**
 * Inference jobs end to end on real podman: sandbox → its pod's sidecar (TCP or Unix socket) → the node's relay →
 * the upstream, here the Ollama-API-compatible TEST DOUBLE on TCP, standing in for Ollama's port.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { join } from "node:path";
import { Ollama } from "ollama";
import type { RunJobRequest } from "../../contracts/worker-api";
import { startOllamaTestServer, testReply, type OllamaTestServer } from "../../testing/ollama-test-server";
import {
  ensureSandboxImage,
  startedSignal,
  testPodman,
  withCountingListener,
  withNodeSecrets,
} from "../../testing/sandbox-fixture";
import { ensureProxyImage, hostAddress, PROXY_IMAGE, startInferenceRunner } from "../../testing/inference-runner";

// Each job creates a pod and waits for its sidecar: seconds, not milliseconds.
setDefaultTimeout(60_000);
const podman = testPodman();
const MODEL = "qwen3.5:0.8b";
let upstream: OllamaTestServer;
let env: Awaited<ReturnType<typeof startInferenceRunner>>;
/** Held open by the slow-upstream test; every other reply passes at once. */
let hold: Promise<void> | undefined;
/** Set by the streaming test: awaited before the double sends streamed chunk `i`. */
let chunkGate: ((i: number) => Promise<void>) | undefined;

beforeAll(async () => {
  await Promise.all([ensureSandboxImage(podman), ensureProxyImage(podman)]);
  upstream = await startOllamaTestServer({
    port: 0,
    models: [MODEL],
    beforeReply: () => hold ?? Promise.resolve(),
    beforeChunk: (i) => chunkGate?.(i) ?? Promise.resolve(),
  });
  env = await startInferenceRunner({ podman, upstreamUrl: upstream.url! });
}, 300_000);
afterAll(async () => {
  await env.stop();
  await upstream.stop();
});

function job(command: string[], sandbox: Partial<RunJobRequest["sandbox"]> = {}): RunJobRequest {
  const id = crypto.randomUUID();
  return { version: 1, task_id: `task-${id}`, job_id: id, sandbox: { command, use_inference: true, ...sandbox } };
}
const sh = (script: string, sandbox: Partial<RunJobRequest["sandbox"]> = {}) => job(["sh", "-c", script], sandbox);
const generate = (prompt: string, stream = false) => JSON.stringify({ model: MODEL, prompt, stream });

describe("inference jobs in a no-network pod (real podman)", () => {
  it("reaches the model at $OLLAMA_BASE_URL with busybox wget, and leaves no pod behind", async () => {
    const script = `wget -q -O - --header 'Content-Type: application/json' --post-data '${generate("via tcp")}' "$OLLAMA_BASE_URL/api/generate"`;
    const res = await env.runner.run(sh(script));
    expect(res).toMatchObject({ status: "completed", exit_code: 0 });
    expect(JSON.parse(res.stdout).response).toBe(testReply("via tcp"));
    expect(await env.leftovers()).toEqual([]);
  });

  it("reaches the model through INFERENCE_PROXY_URL, the per-job Unix socket at /run/cynode", async () => {
    // busybox has no Unix-socket HTTP client (its nc lacks -U, and `nc -f` cannot open a socket), so this job runs
    // the sidecar image's Bun as its client (BUN_BE_BUN=1), under the same sandbox limits as any job.
    const client = [
      "const url = process.env.INFERENCE_PROXY_URL;",
      "const unix = decodeURIComponent(url.slice('http+unix://'.length).split('/')[0]);",
      `const res = await fetch('http://localhost/api/generate', { unix, method: 'POST', body: ${JSON.stringify(generate("via socket"))} });`,
      "console.log(url, unix, (await res.json()).response);",
    ].join("\n");
    const res = await env.runner.run(job(["-e", client], { image: PROXY_IMAGE, env: { BUN_BE_BUN: "1" } }));
    expect(res.stdout).toBe(
      `http+unix://%2Frun%2Fcynode%2Finference-proxy.sock /run/cynode/inference-proxy.sock ${testReply("via socket")}\n`,
    );
    expect(res.status).toBe("completed");
  });

  it("prints the model's reply in prompt mode (cynode-prompt)", async () => {
    const res = await env.runner.run(
      job(["cynode-prompt"], { env: { CYNODE_PROMPT: 'what is 2+2? <say "4">', CYNODE_INFERENCE_MODEL: MODEL } }),
    );
    expect(res).toMatchObject({ status: "completed", stdout: `${testReply('what is 2+2? <say "4">')}\n` });
  });
});

describe("inference pod's sidecar (real podman)", () => {
  it("streams chunk by chunk through the sidecar, serves the official ollama client, and removes the pod on cancel", async () => {
    const started = startedSignal();
    const j = sh(started.command);
    const result = env.runner.run(j);
    try {
      await started.seen();
      // The job's /run/cynode is a host directory: the host reaches the same sidecar socket the sandbox sees.
      const socket = join(env.settings.mountRoot, j.job_id, "run", "inference-proxy.sock");

      // The double sends chunk i only once chunk i-1 has reached this client: a buffering hop would deadlock here.
      const chunks: string[] = [];
      const arrivals: (() => void)[] = [];
      chunkGate = (i) =>
        i === 0 || chunks.length >= i
          ? Promise.resolve()
          : new Promise<void>((resolve) => void (arrivals[i - 1] = resolve));
      const res = await fetch("http://localhost/api/generate", {
        unix: socket,
        method: "POST",
        body: generate("one two three four", true),
      });
      const reader = res.body!.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        chunks.push(new TextDecoder().decode(r.value));
        arrivals[chunks.length - 1]?.();
      }
      const lines = chunks
        .join("")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { response: string });
      expect(lines.map((l) => l.response).join("")).toBe(testReply("one two three four"));
      expect(chunks.length).toBe(lines.length);
      expect(chunks.length).toBeGreaterThan(2);

      const ollama = new Ollama({
        host: "http://localhost",
        fetch: ((url: string | URL | Request, init?: RequestInit) =>
          fetch(url, { ...init, unix: socket })) as typeof fetch,
      });
      expect((await ollama.list()).models.map((m) => m.name)).toEqual([MODEL]);
      expect((await ollama.generate({ model: MODEL, prompt: "official client" })).response).toBe(
        testReply("official client"),
      );
      const streamed: string[] = [];
      for await (const part of await ollama.generate({ model: MODEL, prompt: "streamed client", stream: true }))
        streamed.push(part.response ?? "");
      expect(streamed.join("")).toBe(testReply("streamed client"));
    } finally {
      chunkGate = undefined;
      expect(await env.runner.cancel(j.job_id)).toBe(true);
    }
    expect(await result).toMatchObject({ status: "canceled", exit_code: -1 });
    expect(await env.leftovers()).toEqual([]);
  });

  it("answers an 11 MiB body with 413", async () => {
    // The proxy answers before reading the body, so busybox wget would die of SIGPIPE mid-upload; ignoring it lets
    // wget read and report the answer.
    const script =
      "head -c 11534336 /dev/zero | tr '\\0' x >/tmp/big; trap '' PIPE; wget -q -O - --post-file /tmp/big \"$OLLAMA_BASE_URL/api/generate\" 2>&1; echo exit=$?";
    const res = await env.runner.run(sh(script));
    expect(res.stdout).toBe("wget: server returned error: HTTP/1.1 413 Payload Too Large\nexit=1\n");
  });

  it("answers 504 when the upstream is slower than the sidecar's limit", async () => {
    const slow = await startInferenceRunner({
      podman,
      upstreamUrl: upstream.url!,
      placement: { proxyTimeoutSeconds: 1 },
    });
    const gate = Promise.withResolvers<void>();
    hold = gate.promise;
    try {
      const res = await slow.runner.run(
        sh(`wget -q -O - --post-data '${generate("slow")}' "$OLLAMA_BASE_URL/api/generate" 2>&1; echo exit=$?`),
      );
      expect(res.stdout).toContain("504");
      expect(res.stdout).toContain("exit=1");
    } finally {
      gate.resolve();
      hold = undefined;
      await slow.stop();
    }
  });
});

describe("inference pod's isolation (real podman)", () => {
  it("reaches nothing but its sidecar: no host port, no other address, only loopback", async () => {
    await withCountingListener(async (port, accepted) => {
      const targets = [
        `${hostAddress()}:${port}`,
        `127.0.0.1:${port}`,
        `10.0.2.2:${port}`,
        "1.1.1.1:443",
        `${hostAddress()}:${new URL(upstream.url!).port}`,
      ];
      const tries = targets
        .map((t) => `nc -w 2 ${t.replace(":", " ")} </dev/null && echo CONNECTED ${t} || echo BLOCKED`)
        .join("; ");
      const res = await env.runner.run(
        sh(`ls /sys/class/net; ${tries}; nc -w 2 127.0.0.1 11434 </dev/null && echo SIDECAR`),
      );
      expect(res.stdout).toBe(`lo\n${"BLOCKED\n".repeat(targets.length)}SIDECAR\n`);
      expect(res.stderr).toContain("Network is unreachable");
      expect(accepted()).toBe(0);
    });
  });

  it("shows the sandbox no credential in env, /proc/1/environ or mounts, and not the relay socket", async () => {
    await withNodeSecrets(async (secret) => {
      const res = await env.runner.run(
        sh("env; tr '\\0' '\\n' </proc/1/environ; cat /proc/self/mountinfo; ls -a /run/cynode /run"),
      );
      expect(res.status).toBe("completed");
      expect(res.stdout).not.toContain(secret);
      expect(res.stdout).not.toMatch(
        /PSK|BEARER|CONTAINERS_CONF|HOME=\/root|OLLAMA_UPSTREAM_URL|cynode-relay|ollama\.sock|\/run\/upstream/,
      );
      expect(res.stdout).toContain("inference-proxy.sock");
      expect(res.stdout).toContain("OLLAMA_BASE_URL=http://localhost:11434\n");
    });
  });

  it("removes the pod after a failed job and after a timed-out one", async () => {
    expect(await env.runner.run(sh("exit 3"))).toMatchObject({ status: "failed", exit_code: 3 });
    expect(await env.leftovers()).toEqual([]);
    expect(await env.runner.run(sh("sleep 30", { timeout_seconds: 1 }))).toMatchObject({
      status: "timeout",
      exit_code: -1,
    });
    expect(await env.leftovers()).toEqual([]);
  });
});
