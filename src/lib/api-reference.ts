/**
 * `GET /openapi.json` (generated from the app's routes, see openapi.ts) and `GET /docs`, an interactive reference
 * (Scalar) whose script is served by us from the package's standalone bundle, embedded in compiled binaries, so
 * the page works with no network.
 */
import { Scalar } from "@scalar/hono-api-reference";
import type { Hono } from "hono";
// @ts-expect-error: a `type: "file"` import is the file's path (a string), which TypeScript cannot know.
import scalarBundle from "../../node_modules/@scalar/api-reference/dist/browser/standalone.js" with { type: "file" };
import { REFERENCE } from "../contracts/routes";
import { type ApiInfo, describeRoute, openApiDocument } from "./openapi";

const tags = ["reference"];

/** Mounts the document and the reference on `app` (after its other routes: the document is built on first request). */
export function mountApiReference<A extends Hono<any, any, any>>(app: A, info: ApiInfo): A {
  let doc: Record<string, unknown> | undefined;
  app.get(
    REFERENCE.openapi.pattern,
    describeRoute(REFERENCE.openapi, {
      summary: "This OpenAPI 3.1 document",
      tags,
      responses: { 200: { contentType: "application/json" } },
    }),
    (c) => c.json((doc ??= openApiDocument(app, info))),
  );
  app.get(
    REFERENCE.docs.pattern,
    describeRoute(REFERENCE.docs, {
      summary: "Interactive API reference",
      tags,
      responses: { 200: { contentType: "text/html" } },
    }),
    Scalar({
      url: REFERENCE.openapi.path(),
      cdn: REFERENCE.docsScript.path(),
      pageTitle: info.title,
      // Offline and self-contained: no web fonts, no telemetry, no hosted AI agent or developer-tools banner.
      withDefaultFonts: false,
      telemetry: false,
      agent: { disabled: true },
      showDeveloperTools: "never",
      defaultOpenAllTags: true,
    }),
  );
  app.get(
    REFERENCE.docsScript.pattern,
    describeRoute(REFERENCE.docsScript, {
      summary: "The reference's script",
      tags,
      responses: { 200: { contentType: "text/javascript" } },
    }),
    (c) =>
      c.body(Bun.file(scalarBundle).stream(), 200, {
        "content-type": "text/javascript; charset=utf-8",
        "cache-control": "public, max-age=86400",
      }),
  );
  return app;
}
