/** Steps of the OpenAI-compatible chat: the official `openai` client, plain HTTP and cynork against the real system. */
import { Then, When } from "@cucumber/cucumber";
import { expect } from "bun:test";
import OpenAI from "openai";
import { replyChunks, testReply } from "../../src/testing/ollama-test-server";
import { inferenceModel, inferenceUpstream } from "../support/system";
import { cynork, type CliWorld } from "./cynork.steps";

type ChatWorld = CliWorld & { models?: string[]; completion?: string; chunks?: string[] };

const openai = (w: ChatWorld) =>
  new OpenAI({ baseURL: `${w.orchestrator!.gatewayUrl}/v1`, apiKey: w.tokens!.access_token, maxRetries: 0 });

/** The test double's reply is known exactly; a real model must say something. */
async function expectReply(text: string, prompt: string) {
  if ((await inferenceUpstream()).fake) expect(text).toBe(testReply(prompt));
  else expect(text.trim().length).toBeGreaterThan(0);
}

Then("cynork prints a line containing the inference model", function (this: ChatWorld) {
  expect(this.run!.stdout.split("\n")).toContain(inferenceModel());
});
Then("cynork's JSON is an OpenAI model list holding the inference model", function (this: ChatWorld) {
  const list = JSON.parse(this.run!.stdout);
  expect(list.object).toBe("list");
  expect(list.data.map((m: { id: string }) => m.id)).toContain(inferenceModel());
});

Then("cynork printed the model's reply to {string}", async function (this: ChatWorld, prompt: string) {
  await expectReply(this.run!.stdout.replace(/\n$/, ""), prompt);
});
When(
  "I chat with cynork, typing {string} then {string} then end of input",
  { timeout: 120_000 },
  async function (this: ChatWorld, first: string, second: string) {
    await cynork(this, ["chat", "--plain"], `${first}\n${second}\n`);
  },
);
Then(
  "cynork printed the model's replies to {string} and {string}",
  async function (this: ChatWorld, first: string, second: string) {
    if ((await inferenceUpstream()).fake) expect(this.run!.stdout).toBe(`${testReply(first)}\n${testReply(second)}\n`);
    else expect(this.run!.stdout.trim().split("\n").length).toBeGreaterThanOrEqual(2);
  },
);

When("I list the models with the openai client", async function (this: ChatWorld) {
  this.models = (await openai(this).models.list()).data.map((m) => m.id);
});
Then("the openai client's model list holds the inference model", function (this: ChatWorld) {
  expect(this.models).toContain(inferenceModel());
});
When("I ask with the openai client {string}", { timeout: 120_000 }, async function (this: ChatWorld, prompt: string) {
  const done = await openai(this).chat.completions.create({
    model: inferenceModel(),
    messages: [{ role: "user", content: prompt }],
  });
  this.completion = done.choices[0]?.message.content ?? "";
});
Then("the openai client's completion is the model's reply to {string}", async function (this: ChatWorld, p: string) {
  await expectReply(this.completion!, p);
});
When(
  "I ask with the openai client, streaming, {string}",
  { timeout: 120_000 },
  async function (this: ChatWorld, prompt: string) {
    const stream = await openai(this).chat.completions.create({
      model: inferenceModel(),
      messages: [{ role: "user", content: prompt }],
      stream: true,
    });
    this.chunks = [];
    for await (const chunk of stream) {
      const piece = chunk.choices[0]?.delta.content;
      if (piece) this.chunks.push(piece);
    }
  },
);
Then(
  "the openai client received several chunks making the model's reply to {string}",
  async function (this: ChatWorld, prompt: string) {
    expect(this.chunks!.length).toBeGreaterThan(1);
    if ((await inferenceUpstream()).fake) expect(this.chunks).toEqual(replyChunks(testReply(prompt)));
    await expectReply(this.chunks!.join(""), prompt);
  },
);

When("I ask for a chat completion with the model {string}", async function (this: ChatWorld, model: string) {
  await this.call("POST", "/v1/chat/completions", { model, messages: [{ role: "user", content: "hi" }] });
});
When("I list the models without a token", async function (this: ChatWorld) {
  await this.call("GET", "/v1/models", undefined, { token: null });
});
Then("the response is an OpenAI error with code {string}", function (this: ChatWorld, code: string) {
  expect(Object.keys(this.json.error).sort()).toEqual(["code", "message", "param", "type"]);
  expect(this.json.error.code).toBe(code);
  expect(this.response!.headers.get("content-type")).toStartWith("application/json");
});
