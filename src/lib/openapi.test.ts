import { describe, expect, it } from "bun:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import { Hono } from "hono";
import * as v from "valibot";
import { documentedApps } from "../testing/api-apps";
import { route } from "../contracts/route";
import { REFERENCE } from "../contracts/routes";
import { mountApiReference } from "./api-reference";
import { describeRoute, openApiDocument } from "./openapi";
import { validated } from "./validate";

type Doc = { openapi: string; paths: Record<string, Record<string, any>> };

async function documentOf(app: Hono<any, any, any>): Promise<Doc> {
  const res = await app.request(REFERENCE.openapi.path());
  expect(res.status).toBe(200);
  return (await res.json()) as Doc;
}

/** Every route hono dispatches to (`.use` middleware aside), as OpenAPI `method path`. */
function mountedRoutes(app: Hono<any, any, any>): string[] {
  const routes = app.routes
    .filter((r) => r.method !== "ALL")
    .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}")}`);
  return [...new Set(routes)].sort();
}

const documented = (doc: Doc) =>
  Object.entries(doc.paths)
    .flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`))
    .sort();

describe("the OpenAPI documents of the gateway, the control-plane and the Worker API", () => {
  for (const [name, app] of Object.entries(documentedApps())) {
    it(`${name}: is a valid OpenAPI 3.1 document that lists every mounted route`, async () => {
      const doc = await documentOf(app);
      expect(doc.openapi).toBe("3.1.0");
      await SwaggerParser.validate(structuredClone(doc) as never);
      expect(mountedRoutes(app).length).toBeGreaterThan(5);
      expect(documented(doc)).toEqual(mountedRoutes(app));
    });
  }

  it("takes request bodies and queries from the validators, responses and problems from the route's description", async () => {
    const doc = await documentOf(documentedApps().gateway);
    const login = doc.paths["/v1/auth/login"]!.post;
    expect(login.requestBody.content["application/json"].schema).toMatchObject({
      type: "object",
      required: ["handle", "password"],
    });
    expect(login.responses["200"].content["application/json"].schema.properties.access_token).toEqual({
      type: "string",
    });
    expect(login.responses["429"].content["application/problem+json"].schema).toEqual({
      $ref: "#/components/schemas/Problem",
    });
    const list = doc.paths["/v1/tasks"]!.get;
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(["limit", "offset", "cursor", "status"]);
    expect(list.security).toEqual([{ bearer: [] }]);
    expect(doc.paths["/v1/tasks/{id}/logs"]!.get.parameters).toContainEqual({
      name: "id",
      in: "path",
      required: true,
      schema: { type: "string" },
    });
  });

  it("leaves out a route mounted without describeRoute (which the check above then reports)", async () => {
    const app = new Hono()
      .post(
        "/a",
        describeRoute(route("POST", "/a", { status: 204 }), { summary: "a" }),
        validated("json", v.object({ x: v.number() })),
        (c) => c.body(null, 204),
      )
      .get("/b", (c) => c.text("b"));
    const doc = openApiDocument(app, { title: "t", version: "1" }) as unknown as Doc;
    expect(Object.keys(doc.paths)).toEqual(["/a"]);
    expect(mountedRoutes(app)).toEqual(["get /b", "post /a"]);
  });
});

describe("/docs", () => {
  it("serves a page that loads the reference script from this server, and the script itself", async () => {
    const app = mountApiReference(new Hono(), { title: "Test API", version: "1" });
    const page = await (await app.request(REFERENCE.docs.path())).text();
    expect(page).toContain(`src="${REFERENCE.docsScript.path()}"`);
    expect(page).not.toMatch(/https?:\/\/(cdn|fonts)\./);
    const script = await app.request(REFERENCE.docsScript.path());
    expect(script.headers.get("content-type")).toStartWith("text/javascript");
    expect((await script.text()).length).toBeGreaterThan(1_000_000);
  });
});
