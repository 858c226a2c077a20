/**
 * TEST SUPPORT: a worker process that its test kills with SIGKILL while its one job runs (deadline-keeper tests).
 * argv: where the job runs (`cold`, `warm`, `pod` or `warm-pod`), its `sh -c` script and its timeout in seconds.
 * Prints its node's slug on the first line, then runs the job and waits to be killed.
 */
import { testPodman, testSettings } from "./sandbox-fixture";
import { startInferenceRunner } from "./inference-runner";
import { createSandboxRunner } from "../worker-node/sandbox/run-job";
import { memoryLogger } from "../lib/log";
import { until } from "./until";

const [place = "cold", script = "true", seconds = "5"] = process.argv.slice(2);
const podman = testPodman();
const warm = place.startsWith("warm");
const inference = place.endsWith("pod");
const settings = { warmPool: place === "warm" ? 1 : 0, warmPods: place === "warm-pod" ? 1 : 0 };
const { runner, settings: used } = inference
  ? await startInferenceRunner({ podman, upstreamUrl: "http://127.0.0.1:9", settings })
  : await plainRunner();
runner.warmUp();
if (warm) await until(() => runner.warmSandboxes > 0, "a warm sandbox", { timeoutMs: 60_000 });
console.log(used.nodeSlug);
const id = crypto.randomUUID();
await runner.run({
  version: 1,
  task_id: `task-${id}`,
  job_id: id,
  sandbox: { command: ["sh", "-c", script], timeout_seconds: Number(seconds), use_inference: inference },
});

async function plainRunner() {
  const s = await testSettings(settings);
  return { runner: createSandboxRunner({ podman, settings: s, log: memoryLogger() }), settings: s };
}
