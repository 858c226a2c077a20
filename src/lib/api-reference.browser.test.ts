/** Opens /docs in a real headless Chromium (Debian's `chromium`) and reads the routes off the rendered page. */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { documentedApps } from "../testing/api-apps";
import { type Chromium, launchChromium } from "../testing/chromium";
import { REFERENCE } from "../contracts/routes";
import { serveApp, type Served } from "./serve";

let server: Served;
let browser: Chromium;

beforeAll(async () => {
  server = serveApp(documentedApps().gateway, { hostname: "127.0.0.1", port: 0 });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe("GET /docs in headless Chromium", () => {
  it("renders the gateway's routes from its own OpenAPI document, fetching nothing from elsewhere", async () => {
    const page = await browser.context.newPage();
    const elsewhere: string[] = [];
    page.on("request", (req) => {
      const url = req.url();
      if (!url.startsWith(server.url.origin) && !/^(data|blob|about):/.test(url)) elsewhere.push(url);
    });
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    await page.goto(new URL(REFERENCE.docs.path(), server.url).href);
    // Summaries come from the routes' descriptions; the paths from the mounted routes.
    for (const text of [
      "Log in",
      "Create a task (its job is queued); multipart/form-data uploads attachments with it",
      "Interactive API reference",
    ])
      await page.getByText(text, { exact: true }).first().waitFor({ timeout: 60_000 });
    const body = (await page.locator("body").textContent()) ?? "";
    expect(body).toContain("CyNodeAI user gateway");
    expect(body).toContain("/v1/tasks");
    expect(errors).toEqual([]);
    expect(elsewhere).toEqual([]);
  }, 120_000);
});
