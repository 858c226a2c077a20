/** Steps where the test plays a worker node against the control-plane: register, fetch config, ack, report. */
import { rfc3339 } from "../../src/lib/rfc3339";
import { Given, Then, When } from "@cucumber/cucumber";
import { expect } from "bun:test";
import type { NodeCapabilityReport } from "../../src/contracts/node-payloads";
import { NODE_PSK } from "../support/orchestrator-process";
import { runningOrchestrator } from "../support/system";
import type { CyWorld } from "../support/world";

const now = () => rfc3339(new Date());

function capability(slug: string, workerUrl?: string): NodeCapabilityReport {
  return {
    version: 1,
    reported_at: now(),
    node: { node_slug: slug, name: `BDD ${slug}` },
    platform: { os: "linux", arch: "amd64" },
    compute: { cpu_cores: 2, ram_mb: 2048 },
    sandbox: { supported: true, max_concurrency: 2 },
    ...(workerUrl ? { worker_api: { base_url: workerUrl } } : {}),
  };
}

async function register(w: CyWorld, slug: string, psk: string, workerUrl?: string) {
  const cp = (await runningOrchestrator(w)).controlPlaneUrl;
  await w.call(
    "POST",
    "/v1/nodes/register",
    { psk, capability: capability(slug, workerUrl) },
    { base: cp, token: null },
  );
  if (w.response!.ok) w.node = { slug, jwt: w.json.auth.node_jwt };
}

/** A control-plane call made as the node (its JWT), or with the given token, or none. */
async function asNode(w: CyWorld, method: string, path: string, body?: unknown, token?: string | null) {
  await w.call(method, path, body, {
    base: w.orchestrator!.controlPlaneUrl,
    token: token === undefined ? w.node!.jwt : token,
  });
}

async function fetchConfig(w: CyWorld) {
  await asNode(w, "GET", "/v1/nodes/config");
  if (w.response!.status === 200) w.node!.config = w.json;
}

When(
  "node {string} registers with the PSK and worker API {string}",
  function (this: CyWorld, slug: string, url: string) {
    return register(this, slug, NODE_PSK, url);
  },
);
When("node {string} registers with PSK {string}", function (this: CyWorld, slug: string, psk: string) {
  return register(this, slug, psk);
});
Given("node {string} has registered", async function (this: CyWorld, slug: string) {
  await register(this, slug, NODE_PSK);
  expect(this.response!.status).toBe(201);
});
Given(
  "node {string} has registered with worker API {string}",
  async function (this: CyWorld, slug: string, url: string) {
    await register(this, slug, NODE_PSK, url);
    expect(this.response!.status).toBe(201);
  },
);
Given(
  "node {string} has registered with worker API {string} and fetched its configuration",
  async function (this: CyWorld, slug: string, url: string) {
    await register(this, slug, NODE_PSK, url);
    expect(this.response!.status).toBe(201);
    await fetchConfig(this);
    expect(this.response!.status).toBe(200);
  },
);

Then("the bootstrap payload holds a node token and the config URL", function (this: CyWorld) {
  const cp = this.orchestrator!.controlPlaneUrl;
  expect(this.json).toMatchObject({
    version: 1,
    orchestrator: {
      base_url: cp,
      endpoints: { node_config_url: `${cp}/v1/nodes/config`, node_report_url: `${cp}/v1/nodes/capability` },
    },
  });
  expect(this.json.auth.node_jwt.split(".")).toHaveLength(3);
});

When("the node fetches its configuration", function (this: CyWorld) {
  return fetchConfig(this);
});
When("I fetch a node configuration without a token", function (this: CyWorld) {
  this.node = { slug: "nobody", jwt: "" };
  return asNode(this, "GET", "/v1/nodes/config", undefined, null);
});
When("I fetch a node configuration with my user token", function (this: CyWorld) {
  return asNode(this, "GET", "/v1/nodes/config", undefined, this.tokens!.access_token);
});
Then(
  "the configuration is for node {string} with worker API target {string}",
  function (this: CyWorld, slug: string, url: string) {
    expect(this.json.node_slug).toBe(slug);
    expect(this.json.orchestrator.endpoints.worker_api_target_url).toBe(url);
  },
);
Then("the configuration carries a ULID config_version and a worker bearer token", function (this: CyWorld) {
  expect(this.json.config_version).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  expect(this.json.worker_api.orchestrator_bearer_token.length).toBeGreaterThanOrEqual(32);
});

function ack(w: CyWorld, status: string, slug = w.node!.slug) {
  const body = {
    version: 1,
    node_slug: slug,
    config_version: w.node!.config!.config_version,
    ack_at: now(),
    status,
    ...(status === "failed" ? { error: { type: "config_apply_failed", message: "bdd: refused on purpose" } } : {}),
  };
  return asNode(w, "POST", "/v1/nodes/config", body);
}
When("the node acknowledges its configuration as {string}", function (this: CyWorld, status: string) {
  return ack(this, status);
});
When(
  "the node acknowledges its configuration as {string} for slug {string}",
  function (this: CyWorld, status: string, slug: string) {
    return ack(this, status, slug);
  },
);
When("the node reports its capabilities", function (this: CyWorld) {
  return asNode(this, "POST", "/v1/nodes/capability", capability(this.node!.slug, "http://127.0.0.1:7"));
});
When("I check the control-plane readiness", function (this: CyWorld) {
  return this.call("GET", "/readyz", undefined, { base: this.orchestrator!.controlPlaneUrl, token: null });
});
