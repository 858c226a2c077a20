/** Opens /docs in a real headless Chromium (Debian's `chromium`) and reads the routes off the rendered page. */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { documentedApps } from "../testing/api-apps";
import { REFERENCE } from "../contracts/routes";
import { serveApp, type Served } from "./serve";

const CHROMIUM = "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
];

let server: Served;
let profile: string;
let browser: BrowserContext;

beforeAll(async () => {
  server = serveApp(documentedApps().gateway, { hostname: "127.0.0.1", port: 0 });
  profile = await mkdtemp(join(tmpdir(), "cynode-chromium-"));
  browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: FLAGS, headless: true });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await rm(profile, { recursive: true, force: true });
});

describe("GET /docs in headless Chromium", () => {
  it("renders the gateway's routes from its own OpenAPI document, fetching nothing from elsewhere", async () => {
    const page = await browser.newPage();
    const elsewhere: string[] = [];
    page.on("request", (req) => {
      const url = req.url();
      if (!url.startsWith(server.url.origin) && !/^(data|blob|about):/.test(url)) elsewhere.push(url);
    });
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    await page.goto(new URL(REFERENCE.docs.path(), server.url).href);
    // Summaries come from the routes' descriptions; the paths from the mounted routes.
    for (const text of ["Log in", "Create a task (its job is queued)", "Interactive API reference"])
      await page.getByText(text, { exact: true }).first().waitFor({ timeout: 60_000 });
    const body = (await page.locator("body").textContent()) ?? "";
    expect(body).toContain("CyNodeAI user gateway");
    expect(body).toContain("/v1/tasks");
    expect(errors).toEqual([]);
    expect(elsewhere).toEqual([]);
  }, 120_000);
});
