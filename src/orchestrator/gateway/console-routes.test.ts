/** The web console's files on the gateway: the page, the bundle built from src/web, the security headers. */
import { describe, expect, it } from "bun:test";
import { CONSOLE } from "../../contracts/routes";
import { documentedApps } from "../../testing/api-apps";
import { CONSOLE_FILES, consoleBundle, embeddedConsole } from "./console-bundle";
import { CONSOLE_CSP, consoleRoutes } from "./console-routes";

const gateway = documentedApps().gateway;
const get = (path: string, headers: Record<string, string> = {}) => gateway.request(path, { headers });

describe("GET / (the web console)", () => {
  it("answers the page, which loads only same-origin files and has no inline script", async () => {
    const res = await get(CONSOLE.console.path());
    const html = await res.text();
    expect([res.status, res.headers.get("content-type")]).toEqual([200, "text/html; charset=UTF-8"]);
    const scripts = [...html.matchAll(/<script([^>]*)>([^<]*)<\/script>/g)];
    expect(scripts.map(([, attrs, body]) => [attrs, body])).toEqual([
      [` type="module" src="${CONSOLE.consoleScript.path()}"`, ""],
    ]);
    expect(html).toContain(`<link rel="stylesheet" href="${CONSOLE.consoleStyle.path()}">`);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it("sends a Content-Security-Policy that allows scripts from this origin only", async () => {
    const res = await get(CONSOLE.console.path());
    expect(res.headers.get("content-security-policy")).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain("unsafe");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("set-cookie")).toBeNull();
  });
});

describe("GET /console.js and /console.css", () => {
  it("serves the bundle built from src/web gzipped to a client that takes gzip", async () => {
    const res = await get(CONSOLE.consoleScript.path(), { "accept-encoding": "gzip, br" });
    expect([res.status, res.headers.get("content-encoding"), res.headers.get("content-type")]).toEqual([
      200,
      "gzip",
      "text/javascript; charset=utf-8",
    ]);
    const script = new TextDecoder().decode(Bun.gunzipSync(new Uint8Array(await res.arrayBuffer())));
    expect(script).toContain("Log in");
  });

  it("serves it unpacked to a client that does not", async () => {
    const res = await get(CONSOLE.consoleStyle.path());
    expect([res.status, res.headers.get("content-encoding"), res.headers.get("content-type")]).toEqual([
      200,
      null,
      "text/css; charset=utf-8",
    ]);
    expect(await res.text()).toContain("focus-visible");
  });
});

describe("the console's bundle", () => {
  const gz = (text: string) => Bun.gzipSync(new TextEncoder().encode(text));

  it("is the embedded copy when the executable carries both files", async () => {
    const files = [new File([gz("script")], CONSOLE_FILES.script), new File([gz("style")], CONSOLE_FILES.style)];
    const bundle = await embeddedConsole(files);
    expect(new TextDecoder().decode(Bun.gunzipSync(bundle!.script))).toBe("script");
    expect(await embeddedConsole(files.slice(0, 1))).toBeUndefined();
  });

  it("is loaded once, however many requests ask for it", async () => {
    let loads = 0;
    const bundle = consoleBundle(async () => {
      loads++;
      return { script: gz("alert(1)"), style: gz("p{}") };
    });
    const app = consoleRoutes(bundle);
    const answers = await Promise.all([app.request("/console.js"), app.request("/console.css")]);
    expect([answers.map((r) => r.status), loads]).toEqual([[200, 200], 1]);
  });
});
