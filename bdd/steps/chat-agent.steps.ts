/**
 * Steps of the chat agent (`cynodeai.pm`) from cynork and the official `openai` client. With the Ollama test double
 * the model follows src/testing/chat-agent-scripts.ts, so its tools and answer are known exactly; a real model only
 * has to answer, and its tool calls have to be recorded.
 */
import { Then, When } from "@cucumber/cucumber";
import { expect } from "bun:test";
import OpenAI from "openai";
import { PM_MODEL } from "../../src/contracts/chat-agent";
import { USER_API } from "../../src/contracts/routes";
import { ECHO_ANSWER_PREFIX } from "../../src/testing/chat-agent-scripts";
import { inferenceUpstream } from "../support/system";
import type { CliWorld } from "./cynork.steps";

type AgentWorld = CliWorld & { threadId?: string; streamed?: string };

const scripted = async () => (await inferenceUpstream()).fake;

Then("cynork reported the new thread", function (this: AgentWorld) {
  const match = /New thread started: ([0-9a-f-]{36})/.exec(this.run!.stderr);
  expect(match).not.toBeNull();
  this.threadId = match![1];
});

Then("cynork printed the chat agent's answer quoting {string}", async function (this: AgentWorld, output: string) {
  const stdout = this.run!.stdout;
  if (!(await scripted())) return void expect(stdout.trim()).not.toBe("");
  expect(stdout).toStartWith("> task_create ");
  expect(stdout).toEndWith(`${ECHO_ANSWER_PREFIX} ${output}\n`);
});

Then("my tasks hold the chat agent's task running {string}", async function (this: AgentWorld, prompt: string) {
  await this.call("GET", `${USER_API.listTasks.path()}?limit=200`);
  const prompts = (this.json.tasks as { prompt?: string }[]).map((t) => t.prompt);
  if (await scripted()) expect(prompts).toContain(prompt);
});

Then("the thread's tool calls are {string}, each one ok", async function (this: AgentWorld, list: string) {
  await this.call("GET", USER_API.threadToolCalls.path({ id: this.threadId! }));
  expect(this.response!.status).toBe(200);
  const calls = this.json.data as { tool: string; outcome: string }[];
  if (!(await scripted())) return;
  expect(calls.map((c) => c.tool)).toEqual(list.split(", "));
  expect(calls.every((c) => c.outcome === "ok")).toBe(true);
});

When(
  "I ask the chat agent with the openai client, streaming, {string}",
  { timeout: 180_000 },
  async function (this: AgentWorld, prompt: string) {
    const client = new OpenAI({
      baseURL: `${this.orchestrator!.gatewayUrl}/v1`,
      apiKey: this.tokens!.access_token,
      maxRetries: 0,
    });
    const stream = await client.chat.completions.create({
      model: PM_MODEL,
      messages: [{ role: "user", content: prompt }],
      stream: true,
    });
    this.streamed = "";
    for await (const chunk of stream) this.streamed += chunk.choices[0]?.delta.content ?? "";
  },
);

Then(
  "the streamed answer showed the tool calls and ended quoting {string}",
  async function (this: AgentWorld, o: string) {
    if (!(await scripted())) return void expect(this.streamed!.trim()).not.toBe("");
    expect(this.streamed).toContain("> task_create ");
    expect(this.streamed).toContain("> task_result ");
    expect(this.streamed).toEndWith(`${ECHO_ANSWER_PREFIX} ${o}`);
  },
);
