/**
 * End to end over HTTP: the real orchestrator (gateway, control-plane, dispatcher on a real database) and the real
 * worker node; a prompt-mode task runs `cynode-prompt` in a no-network pod whose sidecar relays to the node's Ollama,
 * here the Ollama-API-compatible TEST DOUBLE.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { LOCAL_ADMIN_PASSWORD, startLocalSystem, type LocalSystem } from "../../testing/local-system";
import { testReply } from "../../testing/ollama-test-server";

let system: LocalSystem;

beforeAll(async () => {
  system = await startLocalSystem({
    name: "prompt-task-e2e",
    models: ["qwen3.5:0.8b"],
    env: { DISPATCH_POLL_INTERVAL: "100ms" },
  });
}, 300_000);

afterAll(() => system?.stop());

async function gateway(method: string, path: string, body?: unknown, token?: string): Promise<any> {
  const res = await fetch(new URL(path, system.orchestrator.gateway.url), {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

describe("prompt-mode task end to end (gateway → dispatcher → node → pod → sidecar → Ollama)", () => {
  it("puts the model's reply in the task result's stdout", async () => {
    const { access_token } = await gateway("POST", "/v1/auth/login", {
      handle: "admin",
      password: LOCAL_ADMIN_PASSWORD,
    });
    const prompt = "Say hello to the pod";
    const task = await gateway("POST", "/v1/tasks", { prompt, input_mode: "prompt" }, access_token);
    let result = await gateway("GET", `/v1/tasks/${task.id}/result`, undefined, access_token);
    while (!["completed", "failed", "canceled"].includes(result.status)) {
      await Bun.sleep(100);
      result = await gateway("GET", `/v1/tasks/${task.id}/result`, undefined, access_token);
    }
    const run = JSON.parse(result.jobs[0].result);
    expect([result.status, run.stdout, run.exit_code]).toEqual(["completed", `${testReply(prompt)}\n`, 0]);
    const asked = system.ollama.requests.find((r) => r.path === "/api/generate");
    // The sidecar bounds generation at the node's token limit when the request names none.
    expect(JSON.parse(asked!.body)).toEqual({
      model: "qwen3.5:0.8b",
      prompt,
      stream: false,
      options: { num_predict: 4096 },
    });
  }, 60_000);
});
