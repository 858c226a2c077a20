/** Cucumber world: one scenario's HTTP exchanges with the system under test, and hooks that start it once. */
import { AfterAll, setDefaultTimeout, setWorldConstructor, World } from "@cucumber/cucumber";
import { startOrchestrator, type OrchestratorProcess } from "./orchestrator-process";

setDefaultTimeout(60_000);

let orchestrator: OrchestratorProcess | undefined;

export async function sharedOrchestrator(): Promise<OrchestratorProcess> {
  orchestrator ??= await startOrchestrator();
  return orchestrator;
}

AfterAll(async () => {
  await orchestrator?.stop();
});

export class CyWorld extends World {
  orchestrator?: OrchestratorProcess;
  response?: Response;
  text = "";
  json: any;
  tokens?: { access_token: string; refresh_token: string };
  previousTokens?: { access_token: string; refresh_token: string };
  taskId?: string;

  async call(method: string, path: string, body?: unknown, opts: { raw?: string; token?: string | null } = {}): Promise<void> {
    const token = opts.token === null ? undefined : (opts.token ?? this.tokens?.access_token);
    this.response = await fetch(this.orchestrator!.gatewayUrl + path, {
      method,
      headers: { ...(body !== undefined || opts.raw !== undefined ? { "content-type": "application/json" } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
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

