/** Steps for the node manager's start-up: nodes started here belong to the scenario and stop with it. */
import { Then, When } from "@cucumber/cucumber";
import { expect } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, type ManagedProcess } from "../support/managed-process";
import { startNodeWithInference } from "../support/system";
import { nodeYaml, runSlug, spawnWorkerNode } from "../support/worker-node-process";
import type { CyWorld } from "../support/world";

When("worker node {string} starts", { timeout: 240_000 }, async function (this: CyWorld, slug: string) {
  const node = await startNodeWithInference(this.orchestrator!, slug);
  this.scenario.add(`worker node ${slug}`, node.stop);
  this.workerNode = node;
});

type ExitWorld = CyWorld & { nodeProcess?: ManagedProcess };

async function spawnForExit(w: ExitWorld, o: Parameters<typeof spawnWorkerNode>[0]) {
  const { process: proc, cleanup } = await spawnWorkerNode(o);
  w.scenario.add("worker node", cleanup);
  w.nodeProcess = proc;
}
When("a worker node starts with this node YAML:", function (this: ExitWorld, yaml: string) {
  return spawnForExit(this, { orchestratorUrl: "", slug: "bdd-bad-config", yaml });
});
When("worker node {string} starts with PSK {string}", function (this: ExitWorld, slug: string, psk: string) {
  return spawnForExit(this, { orchestratorUrl: this.orchestrator!.controlPlaneUrl, slug, psk });
});
When(
  "worker node {string} starts with no Ollama reachable and an Ollama image that cannot be run",
  async function (this: ExitWorld, slug: string) {
    const env = {
      OLLAMA_UPSTREAM_URL: `http://127.0.0.1:${await freePort()}`,
      OLLAMA_IMAGE: "localhost/cynode-bdd-no-such-ollama:none",
    };
    return spawnForExit(this, { orchestratorUrl: this.orchestrator!.controlPlaneUrl, slug, env });
  },
);
When(
  "worker node {string} starts against an orchestrator that is not there, waiting {int} seconds",
  async function (this: ExitWorld, slug: string, seconds: number) {
    const url = `http://127.0.0.1:${await freePort()}`;
    const dir = await mkdtemp(join(tmpdir(), "cynode-bdd-lonely-"));
    this.scenario.add("state dir", () => rm(dir, { recursive: true, force: true }));
    return spawnForExit(this, {
      orchestratorUrl: url,
      slug,
      yaml: nodeYaml({ orchestratorUrl: url, slug: runSlug(slug), stateDir: dir, connectSeconds: seconds }),
    });
  },
);
Then("the worker node exits with code {int}", { timeout: 120_000 }, async function (this: ExitWorld, code: number) {
  const exited = await this.nodeProcess!.exitCodeWithin(100_000);
  expect(`${exited}\n${this.nodeProcess!.output()}`).toStartWith(`${code}\n`);
});
Then("its output mentions {string}", function (this: ExitWorld, text: string) {
  expect(this.nodeProcess!.output()).toContain(text);
});

/**
 * The node being ready says the orchestrator wrote the line, not that the suite has read it from the orchestrator's
 * pipe yet: wait for it (with a deadline) before looking.
 */
const orchestratorLogged = (w: CyWorld, msg: string, slug: string) =>
  w.orchestrator!.process.waitForLine(new RegExp(`"msg":"${msg}".*"node_slug":"${runSlug(slug)}"`), 10_000);

Then("the orchestrator logged the registration of {string}", async function (this: CyWorld, slug: string) {
  await orchestratorLogged(this, "node registered", slug);
  expect(this.orchestrator!.process.logLines("node registered").some((l) => l.node_slug === runSlug(slug))).toBe(true);
});
Then(
  "the orchestrator logged an {string} ack of the current config from {string}",
  async function (this: CyWorld, status: string, slug: string) {
    await orchestratorLogged(this, "node config ack", slug);
    const acks = this.orchestrator!.process.logLines("node config ack").filter((l) => l.node_slug === runSlug(slug));
    expect(acks.at(-1)).toMatchObject({ status, current: true });
  },
);
