/** Steps for the orchestrator's user gateway: auth, readiness, tasks. */
import { Given, Then, When } from "@cucumber/cucumber";
import { expect } from "bun:test";
import { BOOTSTRAP_PASSWORD } from "../support/orchestrator-process";
import { runningOrchestrator } from "../support/system";
import type { CyWorld } from "../support/world";

Given("a running orchestrator", async function (this: CyWorld) {
  await runningOrchestrator(this);
});

async function login(w: CyWorld, handle: string, password: string) {
  await w.call("POST", "/v1/auth/login", { handle, password }, { token: null });
  if (w.response!.status === 200) w.tokens = w.json;
}

When("I log in as {string} with the bootstrap password", function (this: CyWorld, handle: string) {
  return login(this, handle, BOOTSTRAP_PASSWORD);
});
When("I log in as {string} with password {string}", function (this: CyWorld, handle: string, password: string) {
  return login(this, handle, password);
});
Given("I am logged in as {string}", async function (this: CyWorld, handle: string) {
  await runningOrchestrator(this);
  await login(this, handle, BOOTSTRAP_PASSWORD);
  expect(this.response!.status).toBe(200);
});

Then("the response status is {int}", function (this: CyWorld, status: number) {
  expect(`${this.response!.status} ${this.text}`).toStartWith(String(status));
});
Then("the response is a problem with detail {string}", function (this: CyWorld, detail: string) {
  expect(this.response!.headers.get("content-type")).toBe("application/problem+json");
  expect(this.json.detail).toBe(detail);
});
Then("the response text contains {string}", function (this: CyWorld, text: string) {
  expect(this.text).toContain(text);
});
Then("I receive an access token and a refresh token", function (this: CyWorld) {
  expect(this.json).toMatchObject({ token_type: "Bearer", expires_in: 900 });
  expect(this.json.access_token.split(".")).toHaveLength(3);
  expect(this.json.refresh_token.split(".")).toHaveLength(3);
});

When("I refresh my session", async function (this: CyWorld) {
  this.previousTokens = this.tokens;
  await this.call("POST", "/v1/auth/refresh", { refresh_token: this.tokens!.refresh_token }, { token: null });
  if (this.response!.status === 200) this.tokens = this.json;
});
Then("I receive a new access token and a new refresh token", function (this: CyWorld) {
  expect(this.tokens!.access_token).not.toBe(this.previousTokens!.access_token);
  expect(this.tokens!.refresh_token).not.toBe(this.previousTokens!.refresh_token);
});
Then("the old refresh token is refused", async function (this: CyWorld) {
  await this.call("POST", "/v1/auth/refresh", { refresh_token: this.previousTokens!.refresh_token }, { token: null });
  expect(this.response!.status).toBe(401);
});
When("I log out", function (this: CyWorld) {
  return this.call("POST", "/v1/auth/logout", { refresh_token: this.tokens!.refresh_token });
});
Then("my refresh token is refused", async function (this: CyWorld) {
  await this.call("POST", "/v1/auth/refresh", { refresh_token: this.tokens!.refresh_token }, { token: null });
  expect(this.response!.status).toBe(401);
});
Then("my access token is refused", async function (this: CyWorld) {
  await this.call("GET", "/v1/users/me");
  expect(this.response!.status).toBe(401);
});
When("I request my user info", function (this: CyWorld) {
  return this.call("GET", "/v1/users/me");
});
Then("the user handle is {string}", function (this: CyWorld, handle: string) {
  expect(this.json.handle).toBe(handle);
});

When("I check the gateway health", function (this: CyWorld) {
  return this.call("GET", "/healthz", undefined, { token: null });
});
When("I check the gateway readiness", function (this: CyWorld) {
  return this.call("GET", "/readyz", undefined, { token: null });
});

async function createTask(w: CyWorld, body: Record<string, unknown>) {
  await w.call("POST", "/v1/tasks", body);
  if (w.response!.status === 201) w.createdTaskIds.push((w.taskId = w.json.task_id));
}
When("I create a task with prompt {string}", function (this: CyWorld, prompt: string) {
  return createTask(this, { prompt });
});
Given("I created a task with prompt {string}", async function (this: CyWorld, prompt: string) {
  await createTask(this, { prompt, input_mode: "commands" });
  expect(this.response!.status).toBe(201);
});
When(
  "I create a task with prompt {string} and name {string} in mode {string}",
  function (this: CyWorld, prompt: string, name: string, mode: string) {
    return createTask(this, { prompt, task_name: name, input_mode: mode });
  },
);
When("I send the raw body {string} to create a task", function (this: CyWorld, raw: string) {
  return this.call("POST", "/v1/tasks", undefined, { raw });
});
Then("the task status is {string}", function (this: CyWorld, status: string) {
  expect(this.json.status).toBe(status);
});
Then("the task name is {string}", function (this: CyWorld, name: string) {
  // Names are unique per user: a rerun against the same orchestrator gets a numbered suffix.
  expect(this.json.task_name).toMatch(new RegExp(`^${name}(-\\d+)?$`));
});
When("I get the task {string}", function (this: CyWorld, name: string) {
  return this.call("GET", `/v1/tasks/${encodeURIComponent(name)}`);
});
When("I list my tasks", function (this: CyWorld) {
  return this.call("GET", "/v1/tasks?limit=50");
});
Then("the list starts with the tasks I created, newest first, and has a next_cursor", function (this: CyWorld) {
  const newest = [...this.createdTaskIds].reverse();
  expect(this.json.tasks.slice(0, newest.length).map((t: { task_id: string }) => t.task_id)).toEqual(newest);
  expect(typeof this.json.next_cursor).toBe("string");
});
When("I cancel the task", function (this: CyWorld) {
  return this.call("POST", `/v1/tasks/${this.taskId}/cancel`);
});
Then("the task is canceled", async function (this: CyWorld) {
  expect(this.json).toEqual({ task_id: this.taskId, canceled: true });
  await this.call("GET", `/v1/tasks/${this.taskId}`);
  expect(this.json.status).toBe("canceled");
});
When("I get the task result", function (this: CyWorld) {
  return this.call("GET", `/v1/tasks/${this.taskId}/result`);
});
Then("the result lists {int} job", function (this: CyWorld, n: number) {
  expect(this.json.task_id).toBe(this.taskId);
  expect(this.json.jobs).toHaveLength(n);
});
When("I get the task logs", function (this: CyWorld) {
  return this.call("GET", `/v1/tasks/${this.taskId}/logs`);
});
Then("the logs have stdout and stderr", function (this: CyWorld) {
  expect(Object.keys(this.json).sort()).toEqual(["stderr", "stdout", "task_id"]);
});

/** A token signed with another key, shaped like ours. */
const FORGED = [
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
  btoa(
    JSON.stringify({
      iss: "cynodeai",
      sub: crypto.randomUUID(),
      user_id: crypto.randomUUID(),
      token_type: "access",
      handle: "admin",
      exp: 4102444800,
    }),
  )
    .replace(/=+$/, "")
    .replaceAll("+", "-")
    .replaceAll("/", "_"),
  "c2lnbmF0dXJl",
].join(".");

When("I call {string} on my task with no token", function (this: CyWorld, call: string) {
  return callOnTask(this, call, null);
});
When("I call {string} on my task with a forged token", function (this: CyWorld, call: string) {
  return callOnTask(this, call, FORGED);
});
When("I call {string} on my task with my refresh token", function (this: CyWorld, call: string) {
  return callOnTask(this, call, this.tokens!.refresh_token);
});
function callOnTask(w: CyWorld, call: string, token: string | null) {
  const [method, route] = call.split(" ") as [string, string];
  return w.call(
    method,
    route.replace("{id}", w.taskId!),
    method === "POST" && route === "/v1/tasks" ? { prompt: "x" } : undefined,
    { token },
  );
}
