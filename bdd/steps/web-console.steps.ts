/**
 * The web console in headless Chromium (features/web): the real orchestrator and node (dist/bin with
 * CYNODE_BDD_BINARIES=1), the page driven by the names of its fields and buttons, a screenshot of each page.
 */
import { Given, Then, When } from "@cucumber/cucumber";
import { expect } from "bun:test";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { CONSOLE } from "../../src/contracts/routes";
import { launchChromium } from "../../src/testing/chromium";
import { CHAT_AGENT_SCRIPTS } from "../../src/testing/chat-agent-scripts";
import { startOllamaTestServer } from "../../src/testing/ollama-test-server";
import { AGENT_SCRIPT_OPTIONS } from "../support/agent-scripts";
import { BOOTSTRAP_PASSWORD, startOrchestrator } from "../support/orchestrator-process";
import { inferenceModel } from "../support/system";
import { startWorkerNode } from "../support/worker-node-process";
import { type CyWorld, featureScope } from "../support/world";

export const SCREENSHOT_DIR = join(import.meta.dir, "..", "..", "reports", "web-console");
const SLOW = { timeout: 60_000 };

export type WebWorld = CyWorld & {
  page?: Page;
  errors: string[];
  elsewhere: string[];
  urls: string[];
  bearers: Set<string>;
  upstreamIsDouble?: boolean;
  /** What the model's turn showed while it streamed (the chat steps). */
  replyTexts?: () => Promise<string[]>;
  /** The last file the console downloaded. */
  downloaded?: Buffer;
  /** The chat agent's thread of the scenario's first chat. */
  threadId?: string;
};

/** The feature's inference upstream: the Ollama TEST DOUBLE, 150 ms between chunks (a stream to watch grow). */
async function slowUpstream(w: WebWorld): Promise<string> {
  w.upstreamIsDouble = !process.env.OLLAMA_UPSTREAM_URL;
  if (process.env.OLLAMA_UPSTREAM_URL) return process.env.OLLAMA_UPSTREAM_URL;
  return featureScope.shared("ollama:slow", async () => {
    const double = await startOllamaTestServer({
      port: 0,
      hostname: "0.0.0.0",
      models: [inferenceModel()],
      chunkDelayMs: 150,
      chatAgentScripts: CHAT_AGENT_SCRIPTS,
      ...AGENT_SCRIPT_OPTIONS,
    });
    return { value: double.url!.replace("0.0.0.0", "127.0.0.1"), stop: double.stop };
  });
}

/** Access tokens live 8 s here: every scenario outlives the first one, so the console must refresh in time. */
export const ACCESS_TOKEN_S = 8;

Given(
  "a running worker node {string} whose model streams slowly, its access tokens short-lived",
  { timeout: 240_000 },
  async function (this: WebWorld, slug: string) {
    const orchestrator = await featureScope.shared("orchestrator", async () => {
      const o = await startOrchestrator({ JWT_ACCESS_DURATION: `${ACCESS_TOKEN_S}s` });
      return { value: o, stop: o.stop };
    });
    this.orchestrator = orchestrator;
    const upstream = await slowUpstream(this);
    this.workerNode = await featureScope.shared(`node:${slug}`, async () => {
      const node = await startWorkerNode({
        orchestratorUrl: orchestrator.controlPlaneUrl,
        slug,
        env: { OLLAMA_UPSTREAM_URL: upstream },
      });
      return { value: node, stop: node.stop };
    });
  },
);

/** Records what the page does that it must not: errors, requests to other origins, URLs (to look for tokens). */
function watch(w: WebWorld, page: Page, origin: string) {
  Object.assign(w, { errors: [], elsewhere: [], urls: [], bearers: new Set<string>() });
  page.on("pageerror", (err) => w.errors.push(err.message));
  page.on("console", (m) => m.type() === "error" && w.errors.push(m.text()));
  page.on("request", (req) => {
    const url = req.url();
    w.urls.push(url);
    if (!url.startsWith(origin) && !/^(data|blob|about):/.test(url)) w.elsewhere.push(url);
    const auth = req.headers().authorization;
    if (auth) w.bearers.add(auth.replace(/^Bearer /, ""));
  });
}

Given("the web console is open in Chromium, {int} px wide", SLOW, async function (this: WebWorld, width: number) {
  const browser = await featureScope.shared("chromium", async () => {
    const chromium = await launchChromium({ viewport: { width, height: 800 } });
    return { value: chromium, stop: chromium.close };
  });
  const page = await browser.context.newPage();
  this.scenario.add("page", () => page.close());
  const origin = this.orchestrator!.gatewayUrl;
  watch(this, page, origin);
  await page.goto(origin + CONSOLE.console.path());
  this.page = page;
});

export async function screenshot(page: Page, name: string) {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

export async function logIn(page: Page, handle: string, password: string, keyboardOnly = false) {
  await page.getByLabel("Handle", { exact: true }).waitFor();
  await screenshot(page, "login");
  if (!keyboardOnly) {
    await page.getByLabel("Handle", { exact: true }).fill(handle);
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByRole("button", { name: "Log in" }).click();
    return;
  }
  await page.getByLabel("Handle", { exact: true }).focus();
  await page.keyboard.type(handle);
  await page.keyboard.press("Tab");
  await page.keyboard.type(password);
  await page.keyboard.press("Enter");
}

When("I log in to the console as {string}", SLOW, async function (this: WebWorld, handle: string) {
  await logIn(this.page!, handle, BOOTSTRAP_PASSWORD);
  await this.page!.getByRole("heading", { name: "Tasks" }).waitFor();
});
When(
  "I log in to the console as {string} using only the keyboard",
  SLOW,
  async function (this: WebWorld, handle: string) {
    await logIn(this.page!, handle, BOOTSTRAP_PASSWORD, true);
  },
);
When(
  "I log in to the console as {string} with the password {string}",
  SLOW,
  async function (this: WebWorld, handle: string, password: string) {
    await logIn(this.page!, handle, password);
  },
);

Then("the console shows its {string} page", SLOW, async function (this: WebWorld, heading: string) {
  await this.page!.getByRole("heading", { name: heading }).waitFor();
  await screenshot(this.page!, heading.toLowerCase());
});
Then("the console shows its log-in form", SLOW, async function (this: WebWorld) {
  await this.page!.getByRole("button", { name: "Log in" }).waitFor();
  expect(await this.page!.getByLabel("Handle", { exact: true }).isVisible()).toBe(true);
});
Then("the console says {string}", SLOW, async function (this: WebWorld, text: string) {
  await this.page!.getByRole("alert").filter({ hasText: text }).waitFor();
});
