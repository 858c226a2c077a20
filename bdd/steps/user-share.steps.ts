/** Steps for the per-user limits of the orchestrator (MAX_ACTIVE_TASKS_PER_USER). */
import { Given, Then } from "@cucumber/cucumber";
import { expect } from "bun:test";
import { startOrchestrator } from "../support/orchestrator-process";
import type { CyWorld } from "../support/world";

Given(
  "an orchestrator started with {string} set to {string}",
  async function (this: CyWorld, name: string, value: string) {
    const orchestrator = await startOrchestrator({ [name]: value });
    this.scenario.add("orchestrator", orchestrator.stop);
    this.orchestrator = orchestrator;
  },
);

Then("the response has the header {string} set to {string}", function (this: CyWorld, name: string, value: string) {
  expect(this.response!.headers.get(name)).toBe(value);
});
