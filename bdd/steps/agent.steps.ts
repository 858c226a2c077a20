/**
 * Steps for agent tasks (`--use-sba`) from cynork through the node's loop and back. With the Ollama test double the
 * model follows bdd/support/agent-scripts.ts, so the answer, the tools and their order are known exactly; a real
 * model only has to answer, with a complete record.
 */
import { Then, When } from "@cucumber/cucumber";
import { expect } from "bun:test";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  ANSWER_PREFIX,
  AGENT_GOAL,
  REPORT_GOAL,
  REPORT_NAME,
  REPORT_OF,
  SCRIPTED_TOOLS,
} from "../support/agent-scripts";
import { inferenceUpstream } from "../support/system";
import { cynork, type CliWorld } from "./cynork.steps";

/** The reference's `sba_result` keys (reference-agents 1.6). */
const SBA_KEYS = ["protocol_version", "job_id", "status", "steps", "artifacts", "failure_code", "failure_message"];

type Step = { index: number; type: string; status: string; kind?: string; tool?: string; output?: string };
type Output = {
  task_id: string;
  status: string;
  stdout: string;
  jobs: { id: string; result: { stdout: string; sba_result: Record<string, unknown> & { steps: Step[] } } }[];
};

const output = (w: CliWorld) => JSON.parse(w.run!.stdout) as Output;
const record = (w: CliWorld) => {
  const result = output(w).jobs[0]?.result;
  // `task result -o json` prints each job's result parsed (reference-agents §0.12): an object, not JSON text.
  expect(typeof result).toBe("object");
  expect(result).toHaveProperty("sba_result");
  return result!.sba_result;
};
const scripted = async () => (await inferenceUpstream()).fake;
const toolSteps = (steps: Step[]) => steps.filter((s) => s.kind === "tool_call");

When(
  "I create with cynork an agent task counting the sandbox's network interfaces and wait for its result",
  { timeout: 180_000 },
  async function (this: CliWorld) {
    await cynork(this, ["-o", "json", "task", "create", "--use-sba", "-p", AGENT_GOAL, "--result"]);
    this.taskId = output(this).task_id;
  },
);

When(
  "I create with cynork an agent task reporting on the attached {string} and wait for its result",
  { timeout: 180_000 },
  async function (this: CliWorld, file: string) {
    const args = ["-o", "json", "task", "create", "--use-sba", "-p", REPORT_GOAL, "--attach", file, "--result"];
    await cynork(this, args);
    this.taskId = output(this).task_id;
  },
);

const sha256 = (data: Uint8Array) => new Bun.CryptoHasher("sha256").update(data).digest("hex");
type Artifact = { path: string; size_bytes?: number; sha256?: string };
/** The digest the agent's record gave its report, kept for the download's check. */
const recordedSha = new WeakMap<CliWorld, string>();

Then("the agent's record lists the report it left in its artifacts directory", function (this: CliWorld) {
  const artifacts = record(this).artifacts as Artifact[];
  expect(artifacts.map((a) => a.path)).toEqual([`artifacts/${REPORT_NAME}`]);
  const result = output(this).jobs[0]!.result as unknown as { artifacts: { name: string; sha256: string }[] };
  expect(result.artifacts.map((a) => [a.name, a.sha256])).toEqual([[REPORT_NAME, artifacts[0]!.sha256!]]);
  recordedSha.set(this, artifacts[0]!.sha256!);
});

Then(
  "the file {string} is the report on {string}, byte-identical to the record's",
  async function (this: CliWorld, got: string, sent: string) {
    const data = new Uint8Array(await readFile(join(this.cli!.dir, got)));
    expect(sha256(data)).toBe(recordedSha.get(this)!);
    if (await scripted()) expect(sha256(data)).toBe(sha256(REPORT_OF(await readFile(join(this.cli!.dir, sent)))));
  },
);

Then("the task's stdout is the agent's final answer quoting one interface", async function (this: CliWorld) {
  const { stdout, jobs } = output(this);
  expect(stdout).toBe(record(this).final_answer as string);
  expect(jobs[0]!.result.stdout).toBe(stdout);
  if (await scripted()) expect(stdout).toBe(`${ANSWER_PREFIX} 1`);
  else expect(stdout.trim()).not.toBe("");
});

Then("the agent's record has the reference's keys and status {string}", function (this: CliWorld, status: string) {
  const sba = record(this);
  for (const key of SBA_KEYS) expect(sba).toHaveProperty(key);
  expect(sba).toMatchObject({ protocol_version: "1.0", job_id: output(this).jobs[0]!.id, status });
  expect(sba.failure_code ?? null).toBeNull();
  expect(sba.artifacts).toBeInstanceOf(Array);
});

Then(
  "the agent's record has one step per model turn and per tool call, the tools in the scripted order",
  async function (this: CliWorld) {
    const { steps } = record(this);
    expect(steps.map((s) => s.index)).toEqual(steps.map((_, i) => i + 1));
    const turns = steps.filter((s) => s.kind === "model_turn");
    const tools = toolSteps(steps);
    expect(turns.length + tools.length).toBe(steps.length);
    if (!(await scripted())) return void expect(turns.length).toBeGreaterThan(0);
    // One model turn before each tool call and one for the final answer.
    expect(steps.map((s) => s.kind)).toEqual(
      SCRIPTED_TOOLS.flatMap(() => ["model_turn", "tool_call"]).concat("model_turn"),
    );
    expect(tools.map((s) => s.tool ?? s.type)).toEqual(SCRIPTED_TOOLS);
    // The reference leaves a step's status words open; a failed or erroring call is what must not be there.
    for (const s of tools) expect(`${s.tool ?? s.type} ${s.status}`).not.toMatch(/ (failed|error|failure)$/);
  },
);

Then("the agent's run_command step counted one interface inside the sandbox", async function (this: CliWorld) {
  if (!(await scripted())) return;
  const run = toolSteps(record(this).steps).find((s) => (s.tool ?? s.type) === "run_command");
  // Loopback only: the command ran in the network-less sandbox, not on the host (which has more).
  expect(run?.output?.trim()).toBe("1");
});

Then("the task's logs hold the agent's final answer", async function (this: CliWorld) {
  const logs = JSON.parse(this.run!.stdout) as { task_id: string; stdout: string; stderr: string };
  expect(logs).toMatchObject({ task_id: this.taskId, stderr: "" });
  if (await scripted()) expect(logs.stdout).toBe(`${ANSWER_PREFIX} 1`);
  else expect(logs.stdout.trim()).not.toBe("");
});
