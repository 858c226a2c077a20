/** Steps of features/e2e/files.feature: attachments uploaded with a task, artifacts listed and downloaded. */
import { Given, Then } from "@cucumber/cucumber";
import { expect } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CliWorld } from "./cynork.steps";

const sha256 = async (path: string) => new Bun.CryptoHasher("sha256").update(await readFile(path)).digest("hex");
/** The worker's answer stored as the task's (only) job's result, with the task id for `<task>`. */
function jobResult(w: CliWorld) {
  const out = JSON.parse(w.run!.stdout);
  w.taskId = out.task_id;
  return JSON.parse(out.jobs[0].result);
}

Given("a file {string} of {int} MiB of random bytes", async function (this: CliWorld, name: string, mib: number) {
  await writeFile(join(this.cli!.dir, name), randomBytes(mib * 1024 * 1024));
});

Then("the task's result lists the artifacts {string}", function (this: CliWorld, names: string) {
  const result = jobResult(this);
  const listed = result.artifacts.map((a: { name: string }) => a.name);
  // What was left out tells why when a name is missing.
  expect({ listed: listed.join(", "), omitted: result.artifacts_omitted }).toMatchObject({ listed: names });
});

Then("the task's result left out {string} past the artifact cap", function (this: CliWorld, name: string) {
  const omitted = jobResult(this).artifacts_omitted;
  expect(omitted).toContainEqual(expect.objectContaining({ name, reason: expect.stringContaining("artifact cap") }));
});

Then("the file {string} holds {string}", async function (this: CliWorld, name: string, text: string) {
  expect(await readFile(join(this.cli!.dir, name), "utf8")).toBe(text.replaceAll("\\n", "\n"));
});

Then("the file {string} has the sha256 of {string}", async function (this: CliWorld, got: string, sent: string) {
  expect(await sha256(join(this.cli!.dir, got))).toBe(await sha256(join(this.cli!.dir, sent)));
});

Then("cynork's JSON lists the attachments {string}", function (this: CliWorld, names: string) {
  const task = JSON.parse(this.run!.stdout);
  this.taskId = task.task_id;
  expect(task.attachments.join(", ")).toBe(names);
});
