import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SbaResult, TRUNCATED_SUFFIX } from "../../contracts/sba";
import type { RunJobRequest } from "../../contracts/worker-api";
import { memoryLogger } from "../../lib/log";
import * as v from "valibot";
import {
  startOllamaTestServer,
  type ChatMessage,
  type OllamaTestServer,
  type ScriptedReply,
} from "../../testing/ollama-test-server";
import { ensureSandboxImage, testPodman, testSettings, waitForHostProcess } from "../../testing/sandbox-fixture";
import { until } from "../../testing/until";
import { attachmentRefs, memoryFiles, sha256Hex } from "../../testing/memory-job-files";
import { createSandboxRunner, type RunnerDeps } from "../sandbox/run-job";
import { relayChat } from "./model-chat";
import { TOOL_NAMES } from "./tools";

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
  "[escape]": [
    call("read_file", { path: "../etc/passwd" }),
    call("run_command", { argv: ["ln", "-s", "/etc", "etc-link"] }),
    call("read_file", { path: "etc-link/passwd" }),
    call("write_file", { path: "etc-link/evil", content: "x" }),
    call("list_tree", { path: "/tmp" }),
    { content: "refused" },
  ],
  "[malformed]": [
    call("fly", { to: "moon" }),
    call("run_command", { argv: [] }),
    call("read_file", "{not json"),
    call("read_file", '{"path":"missing.txt"}'),
    { content: "gave up" },
  ],
  "[repeat]": [
    call("run_command", { argv: ["false"] }),
    call("run_command", { argv: ["false"] }),
    call("run_command", { argv: ["false"] }),
  ],
  "[sleep]": [call("run_command", { argv: ["sleep", "30"] })],
  "[loop]": Array.from({ length: 10 }, () => call("todo", { action: "add", title: "again" })),
  "[big]": [call("run_command", { argv: ["sh", "-c", "yes | head -c 100000"] }), { content: "big" }],
  "[tools]": [
    call("write_file", { path: "a/b.txt", content: "hello\nworld\nhelllo again\n" }),
    call("list_tree", {}),
    call("search_files", { pattern: "hel+o", include: "*.txt" }),
    call("apply_unified_diff", {
      diff: "--- a/a/b.txt\n+++ b/a/b.txt\n@@ -1,3 +1,3 @@\n hello\n-world\n+there\n helllo again\n",
    }),
    call("read_file", { path: "a/b.txt", start_line: 2, end_line: 2 }),
    call("todo", { action: "add", title: "check the file" }),
    call("todo", { action: "complete", id: 1 }),
    (m) => ({ content: `line 2: ${m.filter((x) => x.role === "tool")[4]?.content}` }),
  ],
  "[skip]": [
    call("write_file", { path: "node_modules/m.txt", content: "hello" }),
    call("write_file", { path: ".git/h.txt", content: "hello" }),
    call("write_file", { path: "src/s.txt", content: "hello" }),
    call("search_files", { pattern: "hello" }),
    call("search_files", { pattern: "(" }),
    { content: "searched" },
  ],
  "[many]": [
    {
      tool_calls: [
        { name: "todo", arguments: { action: "add", title: "one" } },
        { name: "todo", arguments: { action: "update", id: 1, title: "uno", done: true } },
        { name: "todo", arguments: { action: "update", id: 9 } },
        { name: "todo", arguments: { action: "add" } },
      ],
    },
  ],
  "[broken]": [call("todo", { action: "add", title: "x" }), { status: 500, error: "the double broke" }],
  "[files]": [
    call("read_file", { path: "data.csv" }),
    call("run_command", { argv: ["sh", "-c", 'grep -c , data.csv >"$CYNODE_ARTIFACTS_DIR/report.txt"'] }),
    { content: "report written" },
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

async function jobContainers(job: RunJobRequest): Promise<string[]> {
  const r = await podman.exec(["ps", "--all", "--format={{.Names}}", `--filter=label=cynodeai.job_id=${job.job_id}`]);
  return r.stdout.split("\n").filter(Boolean);
}

type AgentJobOptions = {
  models?: string[];
  runtime?: number;
  outputBytes?: number;
  attach?: Record<string, Uint8Array>;
};

function agentJob(goal: string, o: AgentJobOptions = {}): RunJobRequest {
  const id = crypto.randomUUID();
  const spec = {
    protocol_version: "1.0",
    job_id: id,
    task_id: `task-${id}`,
    constraints: { max_runtime_seconds: o.runtime ?? 60, max_output_bytes: o.outputBytes ?? 65536 },
    inference: { allowed_models: o.models ?? [MODEL] },
    context: { task_context: goal },
  };
  return {
    version: 1,
    task_id: `task-${id}`,
    job_id: id,
    sandbox: { job_spec_json: JSON.stringify(spec) },
    inference: { allowed_models: o.models ?? [MODEL] },
    ...(o.attach ? { attachments: attachmentRefs(o.attach) } : {}),
  };
}

async function runner(overrides: Partial<RunnerDeps> = {}, settings = {}) {
  return createSandboxRunner({
    podman,
    settings: await testSettings(settings),
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
    // Every turn offers the tools and tells the model its time, steps and todo list.
    const asked = double.requests
      .filter((q) => q.path === "/api/chat" && q.body.includes("[write-run-read]"))
      .map((q) => JSON.parse(q.body));
    expect(asked).toHaveLength(4);
    expect(asked[0].tools.map((t: { function: { name: string } }) => t.function.name)).toEqual(TOOL_NAMES);
    expect(asked.map((b) => /Steps left: (\d+)/.exec(b.messages[0].content)?.[1])).toEqual(["30", "28", "26", "24"]);
    expect(asked[3].messages[0].content).toMatch(/Time left: \d+ seconds\..*\nTodo list:\n/s);
    expect(asked[1].messages.at(-1)).toEqual({ role: "tool", content: "ok\n", tool_name: "write_file" });
    expect(lines[3]).toBe('step 4 tool run_command {"argv":["sh","hello.sh"]} exit 0');
  });
});

describe("agent jobs: files", () => {
  it("finds its attachments in /workspace and hands back what it leaves in $CYNODE_ARTIFACTS_DIR", async () => {
    const csv = new TextEncoder().encode("a,b\n1,2\n3,4\n");
    const { files, stored } = memoryFiles({ "data.csv": csv });
    const r = await runner();
    r.useJobFiles(files);
    const res = await r.run(agentJob("count the rows [files]", { attach: { "data.csv": csv } }));
    expect(res.status).toBe("completed");
    expect(res.sba_result!.steps[1]!.output).toBe("a,b\n1,2\n3,4\n");
    expect(new TextDecoder().decode(stored.get("report.txt"))).toBe("3\n");
    const view = { name: "report.txt", size_bytes: 2, sha256: sha256Hex("3\n"), content_type: "text/plain" };
    expect(res.artifacts).toEqual([view]);
    expect(res.artifacts_omitted).toEqual([]);
    expect(res.sba_result!.artifacts).toEqual([{ path: "artifacts/report.txt", size_bytes: 2, sha256: view.sha256 }]);
    const asked = double.requests.find((q) => q.path === "/api/chat" && q.body.includes("[files]"))!;
    expect(JSON.parse(asked.body).messages[0].content).toContain(
      "Files you want to hand back go in $CYNODE_ARTIFACTS_DIR",
    );
  });

  it("fails before its loop when an attachment does not match its digest", async () => {
    const { files } = memoryFiles({ "data.csv": new TextEncoder().encode("changed") });
    const r = await runner();
    r.useJobFiles(files);
    const res = await r.run(agentJob("[files]", { attach: { "data.csv": new TextEncoder().encode("a,b\n") } }));
    expect(res.status).toBe("failed");
    expect(res.stderr).toBe("attachment data.csv does not match its size and digest");
  });
});

describe("agent jobs: paths and malformed calls", () => {
  it("refuses paths out of the workspace, by text and through symlinks, and fails the run (step_failed)", async () => {
    const res = await (await runner()).run(agentJob("[escape]"));
    const sba = res.sba_result!;
    const tools = sba.steps.filter((s) => s.kind === "tool_call");
    expect(tools.map((s) => s.error ?? "ok")).toEqual([
      "path escapes workspace",
      "ok",
      "path escapes workspace",
      "path escapes workspace",
      "path escapes workspace",
    ]);
    expect(tools[0]!.output).toBe("error: path escapes workspace");
    expect(res.status).toBe("failed");
    expect(res.stdout).toBe("refused");
    expect(sba).toMatchObject({
      status: "failure",
      failure_code: "step_failed",
      failure_message: "path escapes workspace",
    });
  });

  it("answers malformed calls with a tool error and goes on", async () => {
    const res = await (await runner()).run(agentJob("[malformed]"));
    const errors = res.sba_result!.steps.flatMap((s) => (s.error ? [s.error] : []));
    expect(errors).toEqual([
      "unknown tool: fly (tools: run_command, read_file, write_file, apply_unified_diff, list_tree, search_files, todo)",
      "bad arguments for run_command: argv: argv must not be empty",
      expect.stringMatching(/^invalid JSON arguments: /),
      "no such file or directory: missing.txt",
    ]);
    expect(res.stdout).toBe("gave up");
  });
});

describe("agent jobs: budgets and caps", () => {
  it("stops a model that repeats the same failing call", async () => {
    const res = await (await runner()).run(agentJob("[repeat]"));
    expect(res.sba_result).toMatchObject({ status: "failure", failure_code: "repeated_failing_call" });
    expect(res.exit_code).toBe(1);
    expect(res.sba_result!.steps.filter((s) => s.tool === "run_command").map((s) => s.exit_code)).toEqual([1, 1, 1]);
    expect(res.status).toBe("failed");
  });

  it("ends with budget_exhausted at the step limit and at the token budget", async () => {
    const steps = await (await runner({ maxSteps: 4 })).run(agentJob("[loop]"));
    expect(steps.sba_result).toMatchObject({
      failure_code: "budget_exhausted",
      failure_message: "step limit reached (4 steps)",
    });
    expect(steps.sba_result!.steps).toHaveLength(4);
    expect(steps.sba_result!.todo).toEqual([
      { id: 1, title: "again", done: false },
      { id: 2, title: "again", done: false },
    ]);
    const tokens = await (await runner({ maxTokens: 20 })).run(agentJob("[loop]"));
    expect(tokens.sba_result).toMatchObject({
      failure_code: "budget_exhausted",
      failure_message: "token budget exhausted (30 of 20 tokens)",
    });
  });

  it("stops mid-turn when a turn's calls reach the step limit", async () => {
    const res = await (await runner({ maxSteps: 3 })).run(agentJob("[many]"));
    expect(res.sba_result!.steps.map((s) => s.output)).toEqual(["", "added 1: one", "updated 1: uno"]);
    expect(res.sba_result).toMatchObject({
      failure_code: "budget_exhausted",
      todo: [{ id: 1, title: "uno", done: true }],
    });
    const all = await (await runner()).run(agentJob("[many]"));
    expect(all.sba_result!.steps.flatMap((s) => (s.error ? [s.error] : []))).toEqual([
      "no todo item 9",
      "todo add needs a title",
    ]);
  });

  it("caps a tool's output at max_output_bytes, marks it and goes on", async () => {
    const res = await (await runner()).run(agentJob("[big]", { outputBytes: 1000 }));
    const step = res.sba_result!.steps[1]!;
    expect(step.truncated).toBe(true);
    expect(step.output).toBe(`${"y\n".repeat(500)}${TRUNCATED_SUFFIX}`);
    expect(res.status).toBe("completed");
  });
});

describe("agent jobs: the tools", () => {
  it("lists, searches, patches and reads line ranges; keeps the todo list", async () => {
    const res = await (await runner()).run(agentJob("[tools]"));
    const out = res.sba_result!.steps.filter((s) => s.kind === "tool_call").map((s) => s.output);
    expect(out.slice(0, 4)).toEqual([
      "ok\n",
      "a/\na/b.txt\n",
      "a/b.txt:1:hello\na/b.txt:3:helllo again\n",
      expect.stringContaining("a/b.txt"),
    ]);
    expect(res.stdout).toBe("line 2: there\n");
    expect(res.sba_result!.todo).toEqual([{ id: 1, title: "check the file", done: true }]);
    expect(res.sba_result!.status).toBe("success");
  });

  it("searches past .git and node_modules, and refuses a pattern that is not a regular expression", async () => {
    const res = await (await runner()).run(agentJob("[skip]"));
    const searches = res.sba_result!.steps.filter((s) => s.tool === "search_files");
    expect(searches.map((s) => s.output)).toEqual(["src/s.txt:1:hello\n", "error: invalid pattern: ("]);
  });
});

describe("agent jobs: models, timeout and cancel", () => {
  it("never asks a model the job does not allow", async () => {
    const before = double.requests.length;
    const res = await (await runner()).run(agentJob("[write-run-read]", { models: ["not-allowed:1b"] }));
    expect(res.status).toBe("failed");
    expect(res.sba_result).toMatchObject({
      failure_code: "step_failed",
      failure_message: "no allowed model is served by this node (allowed: not-allowed:1b)",
    });
    expect(double.requests.slice(before).map((r) => r.path)).toEqual(["/api/tags"]);
  });

  it("times out mid-run with status timeout, and the sandbox is gone", async () => {
    const r = await runner();
    const job = agentJob("[sleep]", { runtime: 2 });
    const res = await r.run(job);
    expect(res.status).toBe("timeout");
    expect(res.sba_result).toMatchObject({ status: "timeout", failure_code: "timeout" });
    expect(res.sba_result!.steps.map((s) => s.kind)).toEqual(["model_turn"]);
    await r.settled();
    expect(await jobContainers(job)).toEqual([]);
  });

  it("cancel stops the loop mid-call and removes the sandbox", async () => {
    const r = await runner();
    const job = agentJob("[sleep]");
    const done = r.run(job);
    await waitForHostProcess(["sleep", "30"]);
    expect(await r.cancel(job.job_id)).toBe(true);
    const res = await done;
    expect(res.status).toBe("canceled");
    expect(res.sba_result).toMatchObject({ status: "failure", failure_code: "canceled" });
    await r.settled();
    expect(await jobContainers(job)).toEqual([]);
  });
});

describe("agent jobs: failures and sandboxes", () => {
  it("fails the run (step_failed) when the model stops answering mid-run", async () => {
    const res = await (await runner()).run(agentJob("[broken]"));
    expect(res.status).toBe("failed");
    expect(res.sba_result).toMatchObject({
      failure_code: "step_failed",
      failure_message: "inference answered 500: the double broke",
    });
    expect(res.sba_result!.steps).toHaveLength(2);
  });

  it("cancel during a model turn aborts the model's request", async () => {
    const held = Promise.withResolvers<void>();
    const dir = await mkdtemp(join(tmpdir(), "cynode-agent-"));
    const slow = await startOllamaTestServer({
      socket: join(dir, "o.sock"),
      models: [MODEL],
      beforeReply: () => held.promise,
    });
    try {
      const r = await runner({ chat: relayChat(() => slow.socket) });
      const job = agentJob("[write-run-read]");
      const done = r.run(job);
      await until(() => slow.requests.some((q) => q.path === "/api/chat"), "the model asked");
      expect(await r.cancel(job.job_id)).toBe(true);
      const res = await done;
      // The whole result on failure: what ended the run, if not the cancel.
      expect({ status: res.status, stderr: res.stderr, steps: res.sba_result?.steps }).toEqual({
        status: "canceled",
        stderr: "canceled: the job was canceled",
        steps: [],
      });
      await r.settled();
      expect(await jobContainers(job)).toEqual([]);
    } finally {
      held.resolve();
      await slow.stop();
    }
  });

  it("fails with the placement's reason when its inference pod cannot be made", async () => {
    const placeInferenceJob = async () => Promise.reject(new Error("no pod today"));
    const job = agentJob("[write-run-read]");
    job.sandbox.use_inference = true;
    const res = await (await runner({ placeInferenceJob })).run(job);
    expect(res).toMatchObject({ status: "failed", exit_code: -1, stderr: "sandbox placement failed: no pod today" });
    expect(res.sba_result).toMatchObject({
      failure_code: "step_failed",
      failure_message: "sandbox placement failed: no pod today",
    });
  });

  it("takes a warm sandbox when one waits", async () => {
    const log = memoryLogger();
    const r = await runner({ log }, { warmPool: 1 });
    r.warmUp();
    await until(() => r.warm("plain") === 1, "a warm sandbox");
    const res = await r.run(agentJob("count [interfaces]"));
    expect(res.stdout).toBe("interfaces: 1");
    expect(log.lines.find((l) => l.msg === "job finished")).toMatchObject({ warm: true, agent: true });
    await r.stopAll();
  });
});

describe("agent jobs: spec checks and modes", () => {
  it("fails an invalid spec before any sandbox, with the reference's message", async () => {
    const job = agentJob("x");
    job.sandbox.job_spec_json = JSON.stringify({ protocol_version: "1.0", job_id: "j", extra: 1 });
    const res = await (await runner()).run(job);
    expect(res).toMatchObject({
      status: "failed",
      exit_code: -1,
      stderr: 'invalid SBA job_spec_json: invalid JSON or unknown field: json: unknown field "extra"',
    });
    expect(res.sba_result).toBeUndefined();
  });

  it("fails with a message when the node has no inference", async () => {
    const res = await (await runner({ chat: undefined })).run(agentJob("[write-run-read]"));
    expect(res.sba_result).toMatchObject({
      failure_code: "step_failed",
      failure_message: "inference is not available on this node",
    });
  });

  it("runs direct steps in order with no model", async () => {
    const job = agentJob("x");
    const spec = JSON.parse(job.sandbox.job_spec_json!);
    spec.steps = [
      { type: "write_file", args: { path: "n.txt", content: "7" } },
      { type: "run_command", args: { argv: ["cat", "n.txt"] } },
    ];
    job.sandbox.job_spec_json = JSON.stringify(spec);
    const res = await (await runner({ chat: undefined })).run(job);
    expect(res.stdout).toBe("7");
    expect(res.sba_result).toMatchObject({ status: "success", inference_used: false });
    spec.steps = [{ type: "fly" }];
    job.sandbox.job_spec_json = JSON.stringify(spec);
    const bad = await (await runner({ chat: undefined })).run({ ...job, job_id: crypto.randomUUID() });
    expect(bad.sba_result).toMatchObject({
      failure_code: "step_failed",
      failure_message: "unsupported step type for direct execution: fly",
    });
  });

  it("runs every tool call inside the sandbox: it sees only the loopback interface", async () => {
    const res = await (await runner()).run(agentJob("count [interfaces]"));
    expect(res.stdout).toBe("interfaces: 1");
  });
});
