/**
 * Agent jobs (issue 24), in one process with the real sandbox runner and the Ollama TEST DOUBLE answering at once:
 * (a) one tool call round trip, `run_command ["true"]` in the job's own sandbox as the loop's executor measures it
 * (the step's duration), against a bare `podman exec <container> true` into a running container of the same image
 * (cold as it comes: no warm-up); (b) the loop's own cost per step, everything but the model's time, against the
 * same bare exec.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memoryLogger } from "../src/lib/log";
import { startOllamaTestServer, type ScriptedReply } from "../src/testing/ollama-test-server";
import { relayChat } from "../src/worker-node/agent/model-chat";
import { createSandboxRunner } from "../src/worker-node/sandbox/run-job";
import { createPodman } from "../src/worker-node/sandbox/podman";
import { stats, timed, type Comparison } from "./harness";
import { bareExec, bareRemove, bareRunning, NODE_LIMITS } from "./podman-floor";
import { CONTAINERS_CONF, SANDBOX_IMAGE, type Cleanup } from "./services";

/** Tool calls per agent job. */
const CALLS = 10;
const MODEL = "bench-model";
const MARKER = "[bench-true]";

const script: ScriptedReply[] = [
  ...Array.from({ length: CALLS }, () => ({ tool_calls: [{ name: "run_command", arguments: { argv: ["true"] } }] })),
  { content: "done" },
];

function agentJob() {
  const id = crypto.randomUUID();
  const spec = {
    protocol_version: "1.0",
    job_id: id,
    task_id: `task-${id}`,
    constraints: { max_runtime_seconds: 120, max_output_bytes: 65536 },
    context: { task_context: `run true ${MARKER}` },
  };
  return {
    version: 1 as const,
    task_id: `task-${id}`,
    job_id: id,
    sandbox: { job_spec_json: JSON.stringify(spec) },
    inference: { allowed_models: [MODEL] },
  };
}

const comparison = (name: string, sys: number[], base: number[], notes?: Record<string, unknown>): Comparison => {
  const system = stats(sys);
  const baseline = stats(base);
  return { name, unit: "ms", system, baseline, ratio: system.median / baseline.median, notes };
};

export async function agentBench(runs: number, cleanup: Cleanup): Promise<Comparison[]> {
  const dir = await mkdtemp(join(tmpdir(), "cynode-bench-agent-"));
  const double = await startOllamaTestServer({
    socket: join(dir, "ollama.sock"),
    models: [MODEL],
    scripts: { [MARKER]: script },
  });
  cleanup.add(() => double.stop());
  const podman = createPodman({ containersConf: CONTAINERS_CONF });
  const runner = createSandboxRunner({
    podman,
    settings: {
      nodeSlug: `bench-agent-${crypto.randomUUID().slice(0, 8)}`,
      mountRoot: join(dir, "sandbox_mounts"),
      defaultImage: SANDBOX_IMAGE,
      allowedImages: [],
      limits: NODE_LIMITS,
      timeouts: { defaultSeconds: 300, maxSeconds: 300 },
      maxOutputBytes: 1 << 20,
      maxConcurrency: 4,
    },
    log: memoryLogger(),
    chat: relayChat(() => double.socket),
    onStep: () => void marks.push(performance.now()),
  });
  cleanup.add(() => runner.stopAll());
  /** When each step was recorded (its end): the span between them is measured on one clock. */
  const marks: number[] = [];
  const container = await bareRunning();
  cleanup.add(() => bareRemove(container));
  const calls: number[] = [];
  const perStep: number[] = [];
  const overhead: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < runs; i++) {
    marks.length = 0;
    const res = await runner.run(agentJob());
    const steps = res.sba_result?.steps ?? [];
    if (res.status !== "completed" || steps.length !== 2 * CALLS + 1)
      throw new Error(`agent job ended ${res.status}: ${res.stderr}`);
    const tools = steps.filter((s) => s.kind === "tool_call").map((s) => s.duration_ms!);
    // From the end of the first step to the end of the last: every step but the first, on one clock.
    const later = steps.slice(1);
    const span = marks.at(-1)! - marks[0]!;
    const model = later.filter((s) => s.kind === "model_turn").reduce((t, s) => t + s.duration_ms!, 0);
    const all = later.reduce((t, s) => t + s.duration_ms!, 0);
    calls.push(...tools);
    perStep.push((span - model) / later.length);
    overhead.push((span - all) / later.length);
    for (let k = 0; k < CALLS; k++) bare.push(await timed(() => bareExec(container)));
  }
  await runner.settled();
  return [
    comparison(
      `agent: one tool call round trip (run_command ["true"] in the job's sandbox, measured in the loop) vs a bare podman exec <running container> true`,
      calls,
      bare,
      { calls_per_job: CALLS },
    ),
    comparison(
      "agent: the loop's own cost per step (everything but the model's time; double answers at once) vs a bare podman exec",
      perStep,
      bare,
      { steps_per_job: 2 * CALLS + 1, bookkeeping_per_step_ms_median: stats(overhead).median },
    ),
  ];
}
