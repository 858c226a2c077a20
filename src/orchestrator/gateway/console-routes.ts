/**
 * The web console at `/` (decision 27): one page, its script and its stylesheet, same-origin, under a
 * Content-Security-Policy that allows no inline script and no other origin. The page holds no data: it calls the
 * versioned API with a bearer token kept in memory.
 */
import { type Context, Hono } from "hono";
import { CONSOLE } from "../../contracts/routes";
import { describeRoute } from "../../lib/openapi";
import { type ConsoleBundle, consoleBundle } from "./console-bundle";

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CyNodeAI console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${CONSOLE.consoleStyle.path()}">
<script type="module" src="${CONSOLE.consoleScript.path()}"></script>
</head>
<body><div id="app"></div></body>
</html>
`;

const SECURITY_HEADERS = {
  "content-security-policy": CONSOLE_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  // Each build serves new files at the same paths: revalidate rather than keep a stale script.
  "cache-control": "no-cache",
};

/** A gzipped file, as it is when the client takes gzip (every browser), else unpacked. */
function gzipped(c: Context, bytes: Uint8Array<ArrayBuffer>, contentType: string) {
  const headers = { ...SECURITY_HEADERS, "content-type": contentType, vary: "accept-encoding" };
  if (/\bgzip\b/.test(c.req.header("accept-encoding") ?? ""))
    return c.body(bytes, 200, { ...headers, "content-encoding": "gzip" });
  return c.body(Bun.gunzipSync(bytes), 200, headers);
}

export function consoleRoutes(bundle: () => Promise<ConsoleBundle> = consoleBundle()) {
  const tags = ["console"];
  const file = (contentType: string) => ({ 200: { contentType } });
  return new Hono()
    .get(
      CONSOLE.console.pattern,
      describeRoute(CONSOLE.console, { summary: "The web console", tags, responses: file("text/html") }),
      (c) => c.html(PAGE, 200, SECURITY_HEADERS),
    )
    .get(
      CONSOLE.consoleScript.pattern,
      describeRoute(CONSOLE.consoleScript, {
        summary: "The console's script",
        tags,
        responses: file("text/javascript"),
      }),
      async (c) => gzipped(c, (await bundle()).script, "text/javascript; charset=utf-8"),
    )
    .get(
      CONSOLE.consoleStyle.pattern,
      describeRoute(CONSOLE.consoleStyle, { summary: "The console's stylesheet", tags, responses: file("text/css") }),
      async (c) => gzipped(c, (await bundle()).style, "text/css; charset=utf-8"),
    );
}
