/** Steps for inference jobs on a real worker node: its pods, sidecars and warm pool, against the Ollama test double. */
import { Given, Then, When } from "@cucumber/cucumber";
import { expect } from "bun:test";
import type { RunJobRequest } from "../../src/contracts/worker-api";
import { testReply } from "../../src/testing/ollama-test-server";
import { eventually, until } from "../../src/testing/until";
import { ensureProxyImage, PROXY_IMAGE } from "../../src/testing/inference-runner";
import { createPodman } from "../../src/worker-node/sandbox/podman";
import { inferenceModel, inferenceUpstream, runningOrchestrator } from "../support/system";
import { root } from "../support/managed-process";
import { startWorkerNode } from "../support/worker-node-process";
import { featureScope, type CyWorld } from "../support/world";

type PodWorld = CyWorld & { job?: RunJobRequest };
const podman = createPodman({ containersConf: `${root}/containers/containers.conf` });

Given(
  "a running worker node {string} with {int} warm inference pods",
  { timeout: 240_000 },
  async function (this: PodWorld, slug: string, pods: number) {
    const orchestrator = await runningOrchestrator(this);
    const upstream = (await inferenceUpstream()).url;
    this.workerNode = await featureScope.shared(`node:${slug}`, async () => {
      // This checkout's sidecar, under its own tag: checkouts on one machine share podman's image store.
      await ensureProxyImage(podman);
      const node = await startWorkerNode({
        orchestratorUrl: orchestrator.controlPlaneUrl,
        slug,
        env: { OLLAMA_UPSTREAM_URL: upstream, INFERENCE_PROXY_IMAGE: PROXY_IMAGE },
        extraYaml: `inference:\n  warm_pods: ${pods}\n`,
      });
      return { value: node, stop: node.stop };
    });
  },
);

/** Ready warm pods, from the node's own log: started ("warm sandbox ready") minus taken (a warm inference job). */
function warmPodsWaiting(w: PodWorld): number {
  const ready = w.workerNode!.process.logLines("warm sandbox ready").filter((l) => l.kind === "inference").length;
  const taken = w.workerNode!.process.logLines("job finished").filter((l) => l.warm && l.inference).length;
  return ready - taken;
}

Given(
  "the node has {int} warm inference pods waiting",
  { timeout: 120_000 },
  async function (this: PodWorld, n: number) {
    // The pool fills once the node's inference is up; poll its log, not a clock.
    await until(() => warmPodsWaiting(this) >= n, `${n} warm inference pods waiting`, {
      timeoutMs: 110_000,
      intervalMs: 100,
    });
    expect(warmPodsWaiting(this)).toBe(n);
  },
);

async function runInferenceJob(w: PodWorld, script: string): Promise<void> {
  w.job = {
    version: 1,
    task_id: crypto.randomUUID(),
    job_id: crypto.randomUUID(),
    sandbox: { command: ["sh", "-c", script], use_inference: true },
  };
  await w.call("POST", "/v1/worker/jobs:run", w.job, { base: w.workerNode!.workerApiUrl, token: w.workerToken! });
  expect(`${w.response!.status} ${w.text}`).toStartWith("200");
}

When("I run an inference job {string}", { timeout: 120_000 }, function (this: PodWorld, script: string) {
  return runInferenceJob(this, script);
});

When(
  "I run an inference job that asks the model to reply to {string}",
  { timeout: 120_000 },
  function (this: PodWorld, prompt: string) {
    const body = JSON.stringify({ model: inferenceModel(), prompt, stream: false });
    return runInferenceJob(
      this,
      `wget -q -O - --post-data '${body}' "$OLLAMA_BASE_URL/api/generate"; echo; ls /run/cynode; cat /proc/net/dev`,
    );
  },
);

Then("the job stdout holds the model's reply to {string}", async function (this: PodWorld, prompt: string) {
  const reply = JSON.parse(this.json.stdout.split("\n")[0]).response as string;
  if ((await inferenceUpstream()).fake) expect(reply).toBe(testReply(prompt));
  else expect(reply.length).toBeGreaterThan(0);
});

Then("the job saw its sidecar's socket in \\/run\\/cynode and only the loopback interface", function (this: PodWorld) {
  expect(this.json.stdout).toContain("\ninference-proxy.sock\n");
  const interfaces = [...this.json.stdout.matchAll(/^\s*([\w.-]+):\s+\d/gm)].map((m: RegExpMatchArray) => m[1]);
  expect(interfaces).toEqual(["lo"]);
});

Then("the node ran that job in a {word} sandbox", { timeout: 30_000 }, async function (this: PodWorld, path: string) {
  // The node's log line may reach us a moment after its HTTP answer.
  const finished = () => this.workerNode!.process.logLines("job finished").find((l) => l.job_id === this.job!.job_id);
  expect(await eventually(finished, "the node's `job finished` line", { timeoutMs: 25_000 })).toMatchObject({
    inference: true,
    warm: path === "warm",
  });
});

Then("no pod of that job is left", { timeout: 60_000 }, async function (this: PodWorld) {
  // A warm pod is removed after the result is known, so its removal is polled for.
  const filter = `--filter=label=cynodeai.node=${this.workerNode!.slug}`;
  const left = async () => {
    const pods = await podman.exec(["pod", "ps", "--format={{.Name}} {{.Labels}}", filter]);
    const jobPods = pods.stdout.split("\n").filter((l) => l.includes(this.job!.job_id));
    // Warm pods carry no job id; a used warm pod is gone when only the pool's waiting ones remain.
    const used = pods.stdout.split("\n").filter((l) => l.includes("cynodeai.warm")).length;
    return jobPods.length === 0 && used <= 1;
  };
  await until(left, "the job's pod to be removed", { timeoutMs: 55_000, intervalMs: 100 });
});

/** Ollama's management API, as a hostile job would try it: `label method path body`. */
const MANAGEMENT = [
  ["delete", "DELETE", "/api/delete", `{"model":"${inferenceModel()}"}`],
  ["pull", "POST", "/api/pull", '{"model":"evil"}'],
  ["push", "POST", "/api/push", `{"model":"${inferenceModel()}"}`],
  ["copy", "POST", "/api/copy", `{"source":"${inferenceModel()}","destination":"stolen"}`],
  ["create", "POST", "/api/create", `{"model":"evil","from":"${inferenceModel()}"}`],
  ["sneaky-pull", "POST", "/api/chat/../pull", '{"model":"evil"}'],
] as const;

/** One raw HTTP request with busybox nc to the sidecar, printing `<label> <status>`. */
function ncRequest(label: string, method: string, path: string, body: string): string {
  const head = `${method} ${path} HTTP/1.1\\r\\nHost: localhost\\r\\nContent-Length: ${body.length}\\r\\n\\r\\n`;
  return `printf '${head}%s' '${body}' | nc -w 10 127.0.0.1 11434 | head -n 1 | { read -r _ code _; echo "${label} $code"; }`;
}

When(
  "I run an inference job that tries Ollama's management API through its sidecar",
  { timeout: 120_000 },
  function (this: PodWorld) {
    const tries = MANAGEMENT.map(([label, method, path, body]) => ncRequest(label, method, path, body));
    // One allowed request too: it must reach the model server, so its record of requests is known to be live.
    const control = `wget -q -O /dev/null "$OLLAMA_BASE_URL/api/version" && echo "version 200"`;
    return runInferenceJob(this, [...tries, control].join("\n"));
  },
);

Then("every management request was answered 403", function (this: PodWorld) {
  const answers = Object.fromEntries(
    (this.json.stdout as string)
      .trim()
      .split("\n")
      .map((l) => l.split(" ")),
  );
  expect(answers).toEqual({ ...Object.fromEntries(MANAGEMENT.map(([label]) => [label, "403"])), version: "200" });
});

Then("the model server received none of them, but the allowed request", async function (this: PodWorld) {
  const upstream = await inferenceUpstream();
  if (!upstream.requests) return; // a real Ollama keeps no record here; the 403s above are the proof
  const paths = upstream.requests.map((r) => `${r.method} ${r.path}`);
  expect(paths).toContain("GET /api/version");
  const management = new Set(["/api/delete", "/api/pull", "/api/push", "/api/copy", "/api/create"]);
  expect(upstream.requests.filter((r) => management.has(r.path))).toEqual([]);
});
