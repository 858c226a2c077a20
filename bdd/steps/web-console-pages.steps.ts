/** The web console's pages (features/web/console.feature): tasks, a task's output, chat, users, log out. */
import { Then, When } from "@cucumber/cucumber";
import { expect } from "bun:test";
import { readFile } from "node:fs/promises";
import type { Page } from "playwright-core";
import { PM_MODEL } from "../../src/contracts/chat-agent";
import { ECHO_ANSWER_PREFIX } from "../../src/testing/chat-agent-scripts";
import { testReply } from "../../src/testing/ollama-test-server";
import { until } from "../../src/testing/until";
import { USER_API } from "../../src/contracts/routes";
import { AGENT_GOAL, ANSWER_PREFIX, SCRIPTED_TOOLS } from "../support/agent-scripts";
import { inferenceModel } from "../support/system";
import { runSlug } from "../support/worker-node-process";
import { ACCESS_TOKEN_S, logIn, screenshot, type WebWorld } from "./web-console.steps";

const SLOW = { timeout: 60_000 };
const AGENT = { timeout: 120_000 };
const USER_PASSWORD = "web-user-password-1";

const nav = (page: Page, name: string) => page.getByRole("navigation").getByRole("link", { name, exact: true }).click();

type Attachment = { name: string; mimeType: string; buffer: Buffer };

/** Fills the new-task form: `kind` (commands by default) and its text field, named as the kind asks. */
async function runTask(page: Page, text: string, files: Attachment[] = [], kind?: { value: string; field: string }) {
  await nav(page, "New task");
  await page.getByRole("heading", { name: "New task" }).waitFor();
  await screenshot(page, "new-task");
  if (kind) await page.getByLabel("Kind", { exact: true }).selectOption(kind.value);
  await page.getByLabel(kind?.field ?? "Command", { exact: true }).fill(text);
  if (files.length) await page.getByLabel("Attach files", { exact: true }).setInputFiles(files);
  await page.getByRole("button", { name: "Run" }).click();
  await page.getByRole("region", { name: "Output" }).waitFor();
}

const taskIdOf = (page: Page) => decodeURIComponent(new URL(page.url()).hash.split("/")[2]!);

When("I run the command {string} from the console", SLOW, async function (this: WebWorld, command: string) {
  await runTask(this.page!, command);
  this.taskId = taskIdOf(this.page!);
});
When(
  "I run the command {string} from the console with the attachment {string} of {int} lines",
  SLOW,
  async function (this: WebWorld, command: string, name: string, lines: number) {
    const csv = Array.from({ length: lines }, (_, i) => `row,${i}\n`).join("");
    await runTask(this.page!, command, [{ name, mimeType: "text/csv", buffer: Buffer.from(csv) }]);
    this.taskId = taskIdOf(this.page!);
  },
);
When(
  "I run an agent task counting the sandbox's network interfaces from the console",
  SLOW,
  async function (this: WebWorld) {
    await runTask(this.page!, AGENT_GOAL, [], { value: "agent", field: "Goal" });
  },
);
Then(
  "the console's task page shows status {string} within 3 minutes",
  { timeout: 200_000 },
  async function (this: WebWorld, status: string) {
    await statusOf(this.page!).filter({ hasText: status }).waitFor({ timeout: 180_000 });
  },
);
Then(
  "the console's timeline shows the agent's tools in the scripted order and its final answer",
  SLOW,
  async function (this: WebWorld) {
    const timeline = this.page!.getByRole("region", { name: "Agent steps" });
    await timeline.waitFor();
    const tools = (await timeline.locator("ol > li strong").allTextContents()).filter((t) => !t.startsWith("model"));
    const answer = (await timeline.locator("h2:has-text('Final answer') + pre").textContent()) ?? "";
    await screenshot(this.page!, "agent-task");
    if (!this.upstreamIsDouble) return expect(answer.trim()).not.toBe("");
    expect([tools, answer]).toEqual([SCRIPTED_TOOLS, `${ANSWER_PREFIX} 1`]);
  },
);
When("I download the artifact {string} from the console", SLOW, async function (this: WebWorld, name: string) {
  const page = this.page!;
  const button = page.getByRole("region", { name: "Artifacts" }).getByRole("button", { name: `Download ${name}` });
  const [download] = await Promise.all([page.waitForEvent("download"), button.click()]);
  expect(download.suggestedFilename()).toBe(name);
  this.downloaded = await readFile(await download.path());
  await screenshot(page, "task-artifacts");
});
Then("the downloaded file holds {string}", function (this: WebWorld, text: string) {
  expect(this.downloaded!.toString("utf8").trim()).toBe(text);
});

const statusOf = (page: Page) => page.locator("main h1 + .status");

Then(
  "the console's task page shows status {string} and the output {string}",
  SLOW,
  async function (this: WebWorld, status: string, output: string) {
    await statusOf(this.page!).filter({ hasText: status }).waitFor({ timeout: 50_000 });
    expect((await this.page!.getByRole("region", { name: "Output" }).locator("pre").textContent())?.trim()).toBe(
      output,
    );
    await screenshot(this.page!, "task");
  },
);
Then("the console's task page shows status {string}", SLOW, async function (this: WebWorld, status: string) {
  await statusOf(this.page!).filter({ hasText: status }).waitFor({ timeout: 50_000 });
});
When("I cancel the task from the console", SLOW, async function (this: WebWorld) {
  await this.page!.getByRole("button", { name: "Cancel" }).click();
});

/** The tasks page (with a status chosen in its filter) lists the scenario's task with `status`. */
async function listedAs(w: WebWorld, status: string, filter?: string) {
  const page = w.page!;
  await nav(page, "Tasks");
  if (filter) await page.getByLabel("Status", { exact: true }).selectOption(filter);
  const rows = page.getByRole("list", { name: "Tasks" }).getByRole("listitem");
  const row = rows.filter({ has: page.locator(`a[href="#/tasks/${w.taskId}"]`) });
  await row.locator(".status").filter({ hasText: status }).waitFor();
  await screenshot(page, filter ? `tasks-${filter}` : "tasks");
  return rows;
}

Then("the console's tasks page lists that task as {string}", SLOW, async function (this: WebWorld, status: string) {
  await listedAs(this, status);
});
Then(
  "the console's tasks page filtered by {string} lists that task as {string}",
  SLOW,
  async function (this: WebWorld, filter: string, status: string) {
    const rows = await listedAs(this, status, filter);
    expect(new Set(await rows.locator(".status").allTextContents())).toEqual(new Set([filter]));
  },
);

/** Every distinct text of the model's turn while it streams, the last one whole (page scripts: the DOM is theirs). */
const WATCH_REPLY = `window.seen = [];
new MutationObserver(() => {
  const text = document.querySelector(".turn-assistant div")?.textContent ?? "";
  if (text && text !== window.seen.at(-1)) window.seen.push(text);
}).observe(document.body, { subtree: true, childList: true, characterData: true });`;

async function watchReply(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(WATCH_REPLY);
  return () => page.evaluate<string[]>("window.seen");
}

async function chat(w: WebWorld, model: string, message: string) {
  const page = w.page!;
  await nav(page, "Chat");
  await page.getByRole("heading", { name: "Chat" }).waitFor();
  const models = page.getByLabel("Model", { exact: true });
  await models.locator(`option[value="${model}"]`).waitFor({ state: "attached" });
  await models.selectOption(model);
  w.replyTexts = await watchReply(page);
  await page.getByLabel("Message", { exact: true }).fill(message);
  await page.getByRole("button", { name: "Send" }).click();
}

/** What the model's turn showed until the stream ended (Send is enabled again), each text a prefix of the last. */
async function streamedReply(w: WebWorld): Promise<string> {
  const page = w.page!;
  await page.getByRole("button", { name: "Send" }).and(page.locator(":enabled")).waitFor();
  const seen = await w.replyTexts!();
  const whole = seen.at(-1) ?? "";
  expect(seen.length).toBeGreaterThan(1);
  expect(seen.every((text) => whole.startsWith(text))).toBe(true);
  return whole;
}

// The node's model itself (the list also holds the chat agent, cynodeai.pm).
When("I send {string} on the console's chat page", SLOW, async function (this: WebWorld, message: string) {
  await chat(this, inferenceModel(), message);
});
When(
  "I ask the chat agent {string} on the console's chat page",
  SLOW,
  async function (this: WebWorld, message: string) {
    await chat(this, PM_MODEL, message);
  },
);
Then(
  "the model's reply to {string} streams into the conversation",
  SLOW,
  async function (this: WebWorld, message: string) {
    const whole = await streamedReply(this);
    await screenshot(this.page!, "chat");
    if (this.upstreamIsDouble) expect(whole).toBe(testReply(message));
    else expect(whole.trim()).not.toBe("");
  },
);
Then(
  "the chat agent's answer streams in quoting the command's output {string}",
  AGENT,
  async function (this: WebWorld, output: string) {
    const whole = await streamedReply(this);
    await screenshot(this.page!, "chat-agent");
    // Its progress (each tool call) streams first, then the answer.
    if (this.upstreamIsDouble) {
      expect(whole).toMatch(/^> task_create .*\n\n> task_result .*\n\n/);
      expect(whole).toEndWith(`\n${ECHO_ANSWER_PREFIX} ${output}`);
    } else expect(whole).toContain(output);
    this.threadId = await this.page!.getByLabel("Thread", { exact: true }).inputValue();
    expect(this.threadId).not.toBe("");
  },
);
When("I start a new thread on the console's chat page", SLOW, async function (this: WebWorld) {
  await this.page!.getByRole("button", { name: "New thread" }).click();
  await until(
    async () => ![this.threadId, ""].includes(await this.page!.getByLabel("Thread", { exact: true }).inputValue()),
    "the new thread chosen",
  );
});
Then("the console's conversation is empty", SLOW, async function (this: WebWorld) {
  expect(await this.page!.getByRole("list", { name: "Conversation" }).getByRole("listitem").count()).toBe(0);
});
When("I reopen the first thread on the console's chat page", SLOW, async function (this: WebWorld) {
  await this.page!.getByLabel("Thread", { exact: true }).selectOption(this.threadId!);
});
Then(
  "the console's conversation shows {string} and the chat agent's answer",
  SLOW,
  async function (this: WebWorld, asked: string) {
    const turns = this.page!.getByRole("list", { name: "Conversation" }).getByRole("listitem");
    await until(async () => (await turns.count()) === 2, "the thread's two messages");
    const texts = await turns.locator("div").allTextContents();
    expect(texts[0]).toBe(asked);
    if (this.upstreamIsDouble) expect(texts[1]).toContain(`${ECHO_ANSWER_PREFIX} hi`);
  },
);

When("I log out of the console", SLOW, async function (this: WebWorld) {
  await this.page!.getByRole("button", { name: "Log out" }).click();
});

Then("no token was in the browser's storage, cookies or any URL", async function (this: WebWorld) {
  const page = this.page!;
  const stored = await page.evaluate("[localStorage.length, sessionStorage.length, document.cookie]");
  expect([stored, await page.context().cookies()]).toEqual([[0, 0, ""], []]);
  expect(this.bearers.size).toBeGreaterThan(0);
  for (const token of this.bearers) expect(this.urls.filter((u) => u.includes(token))).toEqual([]);
});

Then("the console logged no errors and fetched nothing from elsewhere", function (this: WebWorld) {
  expect([this.errors, this.elsewhere]).toEqual([[], []]);
});

When("I add the user {string} with the console", SLOW, async function (this: WebWorld, handle: string) {
  const page = this.page!;
  await nav(page, "Users");
  await page.getByRole("heading", { name: "Users" }).waitFor();
  await page.getByLabel("New user's handle").fill(handle);
  await page.getByLabel("New user's password").fill(USER_PASSWORD);
  await page.getByRole("button", { name: "Add user" }).click();
  await page.getByRole("list", { name: "Users" }).getByRole("listitem").filter({ hasText: handle }).waitFor();
});
When("I disable {string} with the console", SLOW, async function (this: WebWorld, handle: string) {
  await this.page!.getByRole("button", { name: `Disable ${handle}` }).click();
});
Then(
  "the console's users page shows {string} as {string}",
  SLOW,
  async function (this: WebWorld, handle: string, state: string) {
    const row = this.page!.getByRole("list", { name: "Users" }).getByRole("listitem").filter({ hasText: handle });
    await row.locator(".status").filter({ hasText: state }).waitFor();
    await screenshot(this.page!, "users");
  },
);

Then(
  "the console refreshes its access token twice, outliving the first one",
  { timeout: 4 * ACCESS_TOKEN_S * 1000 },
  async function (this: WebWorld) {
    const refreshes = () => this.urls.filter((u) => new URL(u).pathname === USER_API.refresh.path()).length;
    // Meanwhile the tasks page polls every 2 s: a call with an expired token would be a 401, so a console error.
    await until(() => refreshes() >= 2, "two refreshes", { timeoutMs: 3 * ACCESS_TOKEN_S * 1000, intervalMs: 200 });
  },
);

When(
  "I log in to the console as {string} with the password of the user added",
  SLOW,
  async function (this: WebWorld, handle: string) {
    await logIn(this.page!, handle, USER_PASSWORD);
    await this.page!.getByRole("button", { name: "Log out" }).waitFor();
  },
);

When("I open the console's {string} page", SLOW, async function (this: WebWorld, name: string) {
  await nav(this.page!, name);
  await this.page!.getByRole("heading", { name }).waitFor();
});

Then(
  "the console lists the node {string} as {string} with the inference model",
  SLOW,
  async function (this: WebWorld, slug: string, liveness: string) {
    const row = this.page!.getByRole("list", { name: "Nodes" })
      .getByRole("listitem")
      .filter({ hasText: runSlug(slug) });
    await row
      .locator(".status")
      .filter({ hasText: new RegExp(`^${liveness}$`) })
      .waitFor();
    expect(await row.textContent()).toContain(`models: ${inferenceModel()}`);
    await screenshot(this.page!, "nodes");
  },
);

const skillRow = (w: WebWorld, name: string) =>
  w.page!.getByRole("list", { name: "Skills" }).getByRole("listitem").filter({ hasText: name });

async function addSkill(page: Page, name: string, content: string) {
  await page.getByLabel("Skill name", { exact: true }).fill(name);
  await page.getByLabel("Skill content (Markdown)", { exact: true }).fill(content);
  await page.getByRole("button", { name: "Add skill" }).click();
}
When(
  "I add the skill {string} saying {string} with the console",
  SLOW,
  async function (this: WebWorld, name: string, content: string) {
    await addSkill(this.page!, name, content);
    await skillRow(this, name).waitFor();
  },
);
When(
  "I add the skill {string} saying {string} with the console, which refuses it",
  SLOW,
  async function (this: WebWorld, name: string, content: string) {
    await addSkill(this.page!, name, content);
  },
);
When("I read the skill {string} with the console", SLOW, async function (this: WebWorld, name: string) {
  await this.page!.getByRole("button", { name: `Read ${name}` }).click();
});
Then("the console shows the skill's content {string}", SLOW, async function (this: WebWorld, content: string) {
  const shown = this.page!.getByRole("list", { name: "Skills" }).locator("pre");
  await shown.waitFor();
  expect((await shown.textContent())?.trim()).toBe(content);
  await screenshot(this.page!, "skills");
});
When("I delete the skill {string} with the console", SLOW, async function (this: WebWorld, name: string) {
  await this.page!.getByRole("button", { name: `Delete ${name}` }).click();
});
Then("the console's skills list has no {string}", SLOW, async function (this: WebWorld, name: string) {
  await skillRow(this, name).waitFor({ state: "detached" });
});
