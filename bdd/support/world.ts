/**
 * Cucumber world and hooks. Processes live in one of two scopes: the feature's (an orchestrator, a node, shared by
 * the feature's scenarios to keep the suite fast) or the scenario's; each scope stops everything it started, in
 * reverse order, even when a step failed. After the suite, no sandbox container or pod of ours may remain.
 */
import { After, AfterAll, Before, setDefaultTimeout, setWorldConstructor, World } from "@cucumber/cucumber";
import type { NodeConfigurationPayload } from "../../src/contracts/node-payloads";
import type { OrchestratorProcess } from "./orchestrator-process";
import { leftoverSandboxes } from "./podman-leftovers";
import type { WorkerNode } from "./worker-node-process";

setDefaultTimeout(60_000);

/** Things to stop, newest first. */
export class Scope {
  private stops: { name: string; stop: () => Promise<void> }[] = [];
  private values = new Map<string, Promise<unknown>>();

  add(name: string, stop: () => Promise<void>): void {
    this.stops.push({ name, stop });
  }

  /** Starts `key` once per scope; later calls get the same value. */
  shared<T>(key: string, start: () => Promise<{ value: T; stop: () => Promise<void> }>): Promise<T> {
    let value = this.values.get(key) as Promise<T> | undefined;
    if (!value) {
      value = start().then(({ value, stop }) => {
        this.add(key, stop);
        return value;
      });
      this.values.set(key, value);
    }
    return value;
  }

  async close(): Promise<void> {
    const errors: string[] = [];
    for (const { name, stop } of this.stops.reverse())
      await stop().catch((err: Error) => errors.push(`${name}: ${err.message}`));
    this.stops = [];
    this.values.clear();
    if (errors.length) throw new Error(`clean-up failed:\n${errors.join("\n")}`);
  }
}

let featureUri: string | undefined;
export const featureScope = new Scope();

Before({ timeout: 120_000 }, async function (this: CyWorld, { pickle }) {
  if (pickle.uri !== featureUri) {
    await featureScope.close();
    featureUri = pickle.uri;
  }
});

After({ timeout: 120_000 }, async function (this: CyWorld) {
  await this.scenario.close();
});

AfterAll({ timeout: 120_000 }, async () => {
  await featureScope.close();
  const left = await leftoverSandboxes();
  if (left.length) throw new Error(`containers or pods of the suite's nodes are still there:\n${left.join("\n")}`);
});

export type NodeIdentity = { slug: string; jwt: string; config?: NodeConfigurationPayload };

export class CyWorld extends World {
  scenario = new Scope();
  orchestrator?: OrchestratorProcess;
  workerNode?: WorkerNode;
  response?: Response;
  text = "";
  // biome-ignore lint/suspicious/noExplicitAny: steps assert on whatever JSON the last response held
  json: any;
  tokens?: { access_token: string; refresh_token: string };
  previousTokens?: { access_token: string; refresh_token: string };
  taskId?: string;
  /** Every task this scenario created, oldest first. */
  createdTaskIds: string[] = [];
  /** The node the test plays (registration scenarios) or holds the orchestrator's worker token for. */
  node?: NodeIdentity;
  workerToken?: string;

  /** One HTTP exchange; `base` defaults to the gateway. */
  async call(
    method: string,
    path: string,
    body?: unknown,
    opts: { raw?: string | Uint8Array; token?: string | null; base?: string } = {},
  ): Promise<void> {
    const token = opts.token === null ? undefined : (opts.token ?? this.tokens?.access_token);
    this.response = await fetch((opts.base ?? this.orchestrator!.gatewayUrl) + path, {
      method,
      headers: {
        ...(body !== undefined || opts.raw !== undefined ? { "content-type": "application/json" } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: opts.raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    this.text = await this.response.text();
    try {
      this.json = JSON.parse(this.text);
    } catch {
      this.json = undefined;
    }
  }
}

setWorldConstructor(CyWorld);
