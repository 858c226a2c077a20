/** Steps that only make sense with the whole system up: readiness, dispatch to the node, inference in the sandbox. */
import { Given, Then, When } from "@cucumber/cucumber";
import { expect } from "bun:test";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { testReply } from "../../src/testing/ollama-test-server";
import { taskContainers } from "../support/podman-leftovers";
import { inferenceUpstream } from "../support/system";
import { cynork, type CliWorld } from "./cynork.steps";
import { hostAddress } from "./worker-node.steps";
import { until } from "../../src/testing/until";

const MINUTE = { timeoutMs: 60_000, intervalMs: 200 };

type E2eWorld = CliWorld & { listener?: { port: number; connections: number } };

Given("the orchestrator is ready", async function (this: CliWorld) {
  await this.call("GET", "/readyz", undefined, { token: null });
  expect(`${this.response!.status} ${this.text}`).toBe("200 ready");
});

Then("the worker node logged that it ran the task", function (this: CliWorld) {
  this.taskId = JSON.parse(this.run!.stdout).task_id;
  const finished = this.workerNode!.process.logLines("job finished");
  expect(finished.some((l) => l.task_id === this.taskId)).toBe(true);
});

const result = (w: CliWorld) => JSON.parse(w.run!.stdout);
Then("cynork's JSON has status {string}", function (this: CliWorld, status: string) {
  expect(result(this).status).toBe(status);
});
Then(
  "cynork's JSON has status {string} and stderr containing {string}",
  function (this: CliWorld, status: string, text: string) {
    expect(result(this).status).toBe(status);
    expect(result(this).stderr).toContain(text);
  },
);
/** The test double's reply is known exactly; a real model says what it likes, but must say something and no error. */
async function expectModelReply(w: CliWorld, prompt: string) {
  const stdout: string = result(w).stdout;
  if ((await inferenceUpstream()).fake) expect(stdout.trim()).toBe(testReply(prompt).trim());
  else {
    expect(stdout.trim().length).toBeGreaterThan(0);
    expect(stdout).not.toContain("[Ollama error]");
  }
}
Then("the task's stdout is the model's reply to {string}", function (this: CliWorld, prompt: string) {
  return expectModelReply(this, prompt);
});
Then(
  "the task's stdout is the model's reply to the contents of {string}",
  async function (this: CliWorld, file: string) {
    await expectModelReply(this, await readFile(join(this.cli!.dir, file), "utf8"));
  },
);

When(
  "I create with cynork a script task with inference that asks the model's tags and then the TCP server",
  { timeout: 120_000 },
  async function (this: E2eWorld) {
    const script = [
      'echo "proxy=$INFERENCE_PROXY_URL"',
      'if wget -qO- "$OLLAMA_BASE_URL/api/tags" | grep -q models; then echo MODELS-OK; else echo MODELS-FAILED; fi',
      `if echo probe | nc -w 3 ${hostAddress()} ${this.listener!.port}; then echo CONNECTED; else echo BLOCKED; fi`,
    ].join("\n");
    await writeFile(join(this.cli!.dir, "probe.sh"), `${script}\n`);
    await cynork(this, ["-o", "json", "task", "create", "--script", "probe.sh", "--use-inference", "--result"]);
  },
);

Given("the task's sandbox is running on the node", { timeout: 90_000 }, async function (this: CliWorld) {
  await until(async () => (await taskContainers(this.taskId!)).length > 0, "the sandbox runs", MINUTE);
});
Then("the task's sandbox is gone from the node", { timeout: 90_000 }, async function (this: CliWorld) {
  await until(async () => (await taskContainers(this.taskId!)).length === 0, "the sandbox is removed", MINUTE);
});
