/**
 * Who is who across machines (decision 25): a PSK holder trying to re-register a real node's slug, and the users an
 * admin adds (each sees only its own tasks; a disabled one's token dies at once).
 */
import { Then, When } from "@cucumber/cucumber";
import { expect } from "bun:test";
import type { NodeCapabilityReport } from "../../src/contracts/node-payloads";
import { loadOrCreateNodeKey, nodeIdentityProof } from "../../src/worker-node/node-manager/node-identity";
import { rfc3339 } from "../../src/lib/rfc3339";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NODE_PSK } from "../support/orchestrator-process";
import type { CyWorld } from "../support/world";
import { cynork, type CliWorld } from "./cynork.steps";

type IdentityWorld = CliWorld & { users?: Record<string, { id?: string; token?: string }> };

const takeover = (slug: string, workerUrl: string): NodeCapabilityReport => ({
  version: 1,
  reported_at: rfc3339(new Date()),
  node: { node_slug: slug },
  platform: { os: "linux", arch: "amd64" },
  compute: { cpu_cores: 1, ram_mb: 1024 },
  worker_api: { base_url: workerUrl },
});

async function registerAsThief(w: CyWorld, url: string, ownKey: boolean) {
  const slug = w.workerNode!.slug;
  let node_identity: unknown;
  if (ownKey) {
    const dir = await mkdtemp(join(tmpdir(), "cynode-bdd-thief-"));
    w.scenario.add("thief's key", () => rm(dir, { recursive: true, force: true }));
    const key = await loadOrCreateNodeKey(dir);
    node_identity = await nodeIdentityProof(key, { slug, workerApiUrl: url, now: new Date() });
  }
  const body = { psk: NODE_PSK, capability: takeover(slug, url), node_identity };
  await w.call("POST", "/v1/nodes/register", body, { base: w.orchestrator!.controlPlaneUrl, token: null });
  console.log(`figure: take-over (${ownKey ? "own key" : "no key"}) → ${w.response!.status} ${w.json?.detail}`);
}

When(
  "a PSK holder registers that node's slug with worker API {string} and no node key",
  function (this: CyWorld, url: string) {
    return registerAsThief(this, url, false);
  },
);
When(
  "a PSK holder registers that node's slug with worker API {string} and a key of its own",
  function (this: CyWorld, url: string) {
    return registerAsThief(this, url, true);
  },
);

Then(
  "cynork nodes list shows that node live at its own Worker API URL, bound to its key",
  async function (this: CliWorld) {
    const run = await cynork(this, ["-o", "json", "nodes", "list"]);
    expect(`${run.code} ${run.stderr}`).toBe("0 ");
    const node = JSON.parse(run.stdout).nodes.find((n: { node_slug: string }) => n.node_slug === this.workerNode!.slug);
    expect(node).toMatchObject({
      live: true,
      status: "active",
      key_bound: true,
      worker_api_url: this.workerNode!.workerApiUrl,
    });
  },
);

const users = (w: IdentityWorld) => (w.users ??= {});

When(
  "the admin adds the user {string} with password {string}",
  async function (this: IdentityWorld, handle: string, password: string) {
    await this.call("POST", "/v1/users", { handle, password });
    if (this.response!.status === 201) users(this)[handle] = { id: this.json.id };
  },
);

When("{string} logs in with password {string}", async function (this: IdentityWorld, handle: string, password: string) {
  const admin = this.tokens;
  await this.call("POST", "/v1/auth/login", { handle, password }, { token: null });
  expect(this.response!.status).toBe(200);
  users(this)[handle]!.token = this.json.access_token;
  this.tokens = admin;
});

Then("{string}'s task list holds none of the admin's tasks", async function (this: IdentityWorld, handle: string) {
  await this.call("GET", "/v1/tasks?limit=50", undefined, { token: users(this)[handle]!.token });
  expect(this.response!.status).toBe(200);
  const ids = this.json.tasks.map((t: { task_id: string }) => t.task_id);
  expect(this.createdTaskIds.length).toBeGreaterThan(0);
  for (const id of this.createdTaskIds) expect(ids).not.toContain(id);
});

Then(
  "{string} asking for the admin's task is answered {int}",
  async function (this: IdentityWorld, handle: string, status: number) {
    await this.call("GET", `/v1/tasks/${this.createdTaskIds[0]}`, undefined, { token: users(this)[handle]!.token });
    expect(this.response!.status).toBe(status);
  },
);

When("the admin disables {string}", async function (this: IdentityWorld, handle: string) {
  await this.call("POST", `/v1/users/${users(this)[handle]!.id}/disable`);
  expect(this.response!.status).toBe(200);
});

Then(
  "{string}'s access token is answered {int} at once",
  async function (this: IdentityWorld, handle: string, status: number) {
    await this.call("GET", "/v1/users/me", undefined, { token: users(this)[handle]!.token });
    expect(this.response!.status).toBe(status);
    console.log(`figure: disabled user's token on /v1/users/me → ${this.response!.status}`);
  },
);
