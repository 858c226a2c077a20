/** Steps that drive the real cynork CLI against the real orchestrator. */
import { Given, Then, When } from "@cucumber/cucumber";
import { expect } from "bun:test";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { cynorkSession, runCynork, splitArgs, type CynorkRun, type CynorkSession } from "../support/cynork";
import { freePort } from "../support/managed-process";
import { BOOTSTRAP_PASSWORD } from "../support/orchestrator-process";
import { runningOrchestrator } from "../support/system";
import type { CyWorld } from "../support/world";

export type CliWorld = CyWorld & { cli?: CynorkSession; run?: CynorkRun; savedConfig?: string };

const withNewlines = (s: string) => s.replaceAll("\\n", "\n");

export async function cynork(w: CliWorld, args: string[], stdin?: string): Promise<CynorkRun> {
  w.run = await runCynork(w.cli!, args, { stdin });
  return w.run;
}
const expandTask = (w: CliWorld, line: string) =>
  splitArgs(line).map((a) => a.replaceAll("<task>", w.taskId ?? "<no task yet>"));

Given("a fresh cynork configuration", async function (this: CliWorld) {
  const o = await runningOrchestrator(this);
  const cli = await cynorkSession(o.gatewayUrl);
  this.scenario.add("cynork config", cli.cleanup);
  this.cli = cli;
});
Given("cynork points at a gateway that is not there", async function (this: CliWorld) {
  this.cli = { ...this.cli!, gatewayUrl: `http://127.0.0.1:${await freePort()}` };
});

async function login(w: CliWorld, handle: string, password: string) {
  return cynork(w, ["auth", "login", "-u", handle, "--password-stdin"], `${password}\n`);
}
When("I log in with cynork as {string} with the bootstrap password", function (this: CliWorld, handle: string) {
  return login(this, handle, BOOTSTRAP_PASSWORD);
});
When(
  "I log in with cynork as {string} with password {string}",
  function (this: CliWorld, handle: string, password: string) {
    return login(this, handle, password);
  },
);
Given("I am logged in with cynork as {string}", async function (this: CliWorld, handle: string) {
  const run = await login(this, handle, BOOTSTRAP_PASSWORD);
  expect(`${run.code} ${run.stderr}`).toBe("0 ");
  this.savedConfig = await readFile(this.cli!.configPath, "utf8");
});

When("I run cynork {string}", { timeout: 120_000 }, async function (this: CliWorld, line: string) {
  await cynork(this, expandTask(this, line));
});
Then("cynork exits with code {int}", function (this: CliWorld, code: number) {
  expect(`${this.run!.code}\n${this.run!.stderr}`).toStartWith(`${code}\n`);
});
Then("cynork prints {string}", function (this: CliWorld, text: string) {
  expect(this.run!.stdout).toBe(`${text}\n`);
});
Then("cynork prints a line containing {string}", function (this: CliWorld, text: string) {
  expect(this.run!.stdout).toContain(text);
});
Then("cynork prints the JSON {}", function (this: CliWorld, json: string) {
  expect(JSON.parse(this.run!.stdout)).toEqual(JSON.parse(json));
});
Then("cynork's error output contains {string}", function (this: CliWorld, text: string) {
  expect(this.run!.stderr).toContain(text);
});
Then("the cynork config file has mode 0600 and holds a token", async function (this: CliWorld) {
  expect((await stat(this.cli!.configPath)).mode & 0o777).toBe(0o600);
  expect(await readFile(this.cli!.configPath, "utf8")).toMatch(/^token: \S+\.\S+\.\S+/m);
});
Then("the cynork config file holds new tokens", async function (this: CliWorld) {
  const tokens = (text: string) => [...text.matchAll(/^(token|refresh_token): (\S+)/gm)].map((m) => m[2]);
  const before = tokens(this.savedConfig!);
  const after = tokens(await readFile(this.cli!.configPath, "utf8"));
  expect(after).toHaveLength(2);
  for (const t of after) expect(before).not.toContain(t);
});

Given("a file {string} holding {string}", async function (this: CliWorld, name: string, text: string) {
  await writeFile(join(this.cli!.dir, name), `${withNewlines(text)}\n`);
});
Given("I created with cynork a task running {string}", async function (this: CliWorld, cmd: string) {
  const run = await cynork(this, ["-o", "json", "task", "create", "--command", cmd]);
  expect(`${run.code} ${run.stderr}`).toBe("0 ");
  this.taskId = JSON.parse(run.stdout).task_id;
});
Given("I waited with cynork for the task to end", { timeout: 120_000 }, async function (this: CliWorld) {
  const run = await cynork(this, ["-o", "json", "task", "result", this.taskId!, "--wait", "--wait-interval", "1s"]);
  expect(`${run.code} ${run.stderr}`).toBe("0 ");
});

const json = (w: CliWorld) => JSON.parse(w.run!.stdout);
Then(
  "cynork's JSON has status {string} and stdout containing {string}",
  function (this: CliWorld, status: string, text: string) {
    expect(json(this).status).toBe(status);
    expect(json(this).stdout).toContain(withNewlines(text));
  },
);
Then("cynork's JSON status is one of {string}", function (this: CliWorld, list: string) {
  expect(list.split(/,\s*/)).toContain(json(this).status);
});
Then(
  "cynork's JSON has stdout containing {string} and stderr containing {string}",
  function (this: CliWorld, out: string, err: string) {
    // Every string contains "": an empty expectation would pass whatever stderr holds.
    if (!out || !err) throw new Error('an empty "containing" proves nothing: say what the text must contain');
    expect(json(this)).toMatchObject({ task_id: this.taskId });
    expect(json(this).stdout).toContain(out);
    expect(json(this).stderr).toContain(err);
  },
);
Then("cynork's JSON has stdout containing {string} and an empty stderr", function (this: CliWorld, out: string) {
  expect(json(this)).toMatchObject({ task_id: this.taskId, stderr: "" });
  expect(json(this).stdout).toContain(out);
});
Then("cynork lists the task I created", function (this: CliWorld) {
  expect(this.run!.stdout).toContain(`task_id=${this.taskId} `);
});
