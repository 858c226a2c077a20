import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SbaResult } from "../../contracts/sba";
import type { RunJobRequest } from "../../contracts/worker-api";
import { memoryLogger } from "../../lib/log";
import * as v from "valibot";
import {
  startOllamaTestServer,
  type ChatMessage,
  type OllamaTestServer,
  type ScriptedReply,
} from "../../testing/ollama-test-server";
import { ensureSandboxImage, testPodman, testSettings } from "../../testing/sandbox-fixture";
import { until } from "../../testing/until";
import { createSandboxRunner, type RunnerDeps } from "../sandbox/run-job";
import { relayChat } from "./model-chat";

setDefaultTimeout(60_000);
const podman = testPodman();
const MODEL = "qwen3.5:0.8b";

const lastTool = (m: ChatMessage[]) => m.findLast((x) => x.role === "tool")?.content ?? "";
const call = (name: string, args: unknown, tokens = [10, 5]): ScriptedReply => ({
  tool_calls: [{ name, arguments: args }],
  prompt_eval_count: tokens[0],
  eval_count: tokens[1],
});

const SCRIPTS: Record<string, ScriptedReply[]> = {
  "[write-run-read]": [
    call("write_file", { path: "hello.sh", content: "echo made by the agent\n" }),
    call("run_command", { argv: ["sh", "hello.sh"] }),
    call("read_file", { path: "/workspace/hello.sh" }),
    (m) => ({
      content: `The command said: ${m.filter((x) => x.role === "tool")[1]?.content}`,
      prompt_eval_count: 20,
      eval_count: 7,
    }),
  ],
  "[interfaces]": [
    call("run_command", { argv: ["sh", "-c", "cat /sys/class/net/*/ifindex | wc -l"] }),
    (m) => ({ content: `interfaces: ${lastTool(m).trim()}` }),
  ],
};

let double: OllamaTestServer;
beforeAll(async () => {
  await ensureSandboxImage(podman);
  const dir = await mkdtemp(join(tmpdir(), "cynode-agent-"));
  double = await startOllamaTestServer({ socket: join(dir, "ollama.sock"), models: [MODEL], scripts: SCRIPTS });
});
afterAll(() => double.stop());

function agentJob(goal: string, o: { models?: string[]; runtime?: number } = {}): RunJobRequest {
  const id = crypto.randomUUID();
  const spec = {
    protocol_version: "1.0",
    job_id: id,
    task_id: `task-${id}`,
    constraints: { max_runtime_seconds: o.runtime ?? 60, max_output_bytes: 65536 },
    inference: { allowed_models: o.models ?? [MODEL] },
    context: { task_context: goal },
  };
  return {
    version: 1,
    task_id: `task-${id}`,
    job_id: id,
    sandbox: { job_spec_json: JSON.stringify(spec) },
    inference: { allowed_models: o.models ?? [MODEL] },
  };
}

async function runner(overrides: Partial<RunnerDeps> = {}) {
  return createSandboxRunner({
    podman,
    settings: await testSettings(),
    log: memoryLogger(),
    chat: relayChat(() => double.socket),
    ...overrides,
  });
}

describe("agent jobs (real podman, the Ollama double)", () => {
  it("writes a file, runs it, reads it back and answers quoting the command's output", async () => {
    const lines: string[] = [];
    const r = await runner({ onStep: (_id, line) => lines.push(line) });
    const res = await r.run(agentJob("make a script [write-run-read]"));
    expect(res.status).toBe("completed");
    expect(res.stdout).toBe("The command said: made by the agent\n");
    const sba = v.parse(SbaResult, res.sba_result);
    expect(sba.status).toBe("success");
    expect(sba.failure_code).toBeNull();
    expect(sba.steps.map((s) => `${s.kind}:${s.tool ?? s.model}`)).toEqual([
      `model_turn:${MODEL}`,
      "tool_call:write_file",
      `model_turn:${MODEL}`,
      "tool_call:run_command",
      `model_turn:${MODEL}`,
      "tool_call:read_file",
      `model_turn:${MODEL}`,
    ]);
    expect(sba.steps[3]).toMatchObject({
      exit_code: 0,
      output: "made by the agent\n",
      arguments: '{"argv":["sh","hello.sh"]}',
    });
    expect(sba.steps[5]!.output).toBe("echo made by the agent\n");
    expect(sba.steps[6]).toMatchObject({ prompt_tokens: 20, completion_tokens: 7 });
    expect(lines).toHaveLength(7);
    expect(lines[3]).toBe('step 4 tool run_command {"argv":["sh","hello.sh"]} exit 0');
  });

  it("runs every tool call inside the sandbox: it sees only the loopback interface", async () => {
    const res = await (await runner()).run(agentJob("count [interfaces]"));
    expect(res.stdout).toBe("interfaces: 1");
  });
});
