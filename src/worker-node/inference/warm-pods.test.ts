/** Warm inference pods on real podman: a pod with its sidecar up and a sandbox waiting, one job each. */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { startOllamaTestServer, testReply, type OllamaTestServer } from "../../testing/ollama-test-server";
import { ensureSandboxImage, testPodman } from "../../testing/sandbox-fixture";
import { until } from "../../testing/until";
import { containerName } from "../sandbox/job-sandbox";
import { ensureProxyImage, inferenceShellJob, startInferenceRunner } from "../../testing/inference-runner";

setDefaultTimeout(120_000);
const podman = testPodman();
const MODEL = "qwen3.5:0.8b";
let upstream: OllamaTestServer;
let env: Awaited<ReturnType<typeof startInferenceRunner>>;

beforeAll(async () => {
  await Promise.all([ensureSandboxImage(podman), ensureProxyImage(podman)]);
  upstream = await startOllamaTestServer({ port: 0, models: [MODEL] });
  env = await startInferenceRunner({ podman, upstreamUrl: upstream.url!, settings: { warmPods: 1, maxDiskMb: 64 } });
  env.runner.warmUp();
}, 300_000);
afterAll(async () => {
  await env.runner.stopAll();
  expect(await env.leftovers()).toEqual([]);
  await env.stop();
  await upstream.stop();
});

async function warmPods(): Promise<string[]> {
  const r = await podman.exec([
    "pod",
    "ps",
    "--format={{.Name}}",
    `--filter=label=cynodeai.node=${env.settings.nodeSlug}`,
    "--filter=label=cynodeai.warm=1",
  ]);
  return r.stdout.split("\n").filter(Boolean);
}

const waitForWarm = async () => {
  await until(() => env.runner.warm("inference") >= 1, "a warm inference pod waiting", {
    timeoutMs: 30_000,
    intervalMs: 50,
  });
};

describe("warm inference pods (real podman)", () => {
  it("runs an inference job in a warm pod through its sidecar, removes that pod after, and refills", async () => {
    await waitForWarm();
    const [pod] = await warmPods();
    const body = JSON.stringify({ model: MODEL, prompt: "warm", stream: false });
    const res = await env.runner.run(
      inferenceShellJob(
        `wget -q -O - --post-data '${body}' "$OLLAMA_BASE_URL/api/generate"; echo; ls /run/cynode; id -u`,
      ),
    );
    expect(res.status).toBe("completed");
    const [reply, socket, uid] = res.stdout.split("\n");
    expect(JSON.parse(reply!).response).toBe(testReply("warm"));
    expect(socket).toBe("inference-proxy.sock");
    expect(uid).toBe("0");
    expect(env.log.lines.find((l) => l.msg === "job finished")).toMatchObject({ warm: true, inference: true });
    await until(async () => !(await warmPods()).includes(pod!), "the used pod to be gone", {
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    await waitForWarm();
    expect(await warmPods()).toHaveLength(1);
  });

  it("names the warm pod's sandbox after the job it takes, found by task id while it runs", async () => {
    await waitForWarm();
    const job = inferenceShellJob("exec sleep 60");
    const running = env.runner.run(job);
    const found = async () =>
      (
        await podman.exec(["ps", "--pod", "--format={{.Names}} {{.PodName}}", `--filter=name=${job.task_id}`])
      ).stdout.trim();
    await until(async () => (await found()).startsWith(containerName(job, env.settings.nodeSlug)), "the named sandbox");
    expect((await found()).split(" ")[1]).toStartWith("cynodeai-pod-warm-");
    expect(await env.runner.cancel(job.job_id)).toBe(true);
    expect((await running).status).toBe("canceled");
  });

  it("never reuses a pod: job B sees nothing job A left in its pod's shared directory or workspace", async () => {
    await waitForWarm();
    await env.runner.run(inferenceShellJob("echo a > /run/cynode/from-a; echo a > /workspace/from-a; (sleep 600 &)"));
    await waitForWarm();
    const b = await env.runner.run(inferenceShellJob("ls -A /run/cynode /workspace; ps -o args"));
    expect(b.status).toBe("completed");
    expect(b.stdout).not.toContain("from-a");
    expect(b.stdout).not.toContain("sleep 600");
    const warmRuns = env.log.lines.filter((l) => l.msg === "job finished" && l.warm);
    expect(warmRuns.length).toBeGreaterThanOrEqual(3);
  });

  it("gives a warm pod only to a job allowed exactly the node's default models; others start cold with their own", async () => {
    await waitForWarm();
    const finished = (jobId: string) => env.log.lines.find((l) => l.msg === "job finished" && l.job_id === jobId);
    const own = inferenceShellJob(`wget -q -O - "$OLLAMA_BASE_URL/api/tags"`, { allowed_models: ["other:1b"] });
    const cold = await env.runner.run(own);
    expect(JSON.parse(cold.stdout).models).toEqual([]);
    expect(finished(own.job_id)).toMatchObject({ warm: false, inference: true });
    // `name` and `name:latest` are one model, so a list spelling the default another way still fits.
    const same = inferenceShellJob(`wget -q -O - "$OLLAMA_BASE_URL/api/tags"`, { allowed_models: [MODEL] });
    const warm = await env.runner.run(same);
    expect(JSON.parse(warm.stdout).models.map((m: { name: string }) => m.name)).toEqual([MODEL]);
    expect(finished(same.job_id)).toMatchObject({ warm: true, inference: true });
  });
});
