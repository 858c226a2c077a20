import { describe, expect, it } from "bun:test";
import { Hono } from "hono";
import * as v from "valibot";
import { Text } from "../contracts/storable";
import { memoryLogger } from "./log";
import { problemHandler } from "./http-problem";
import { storablePathAndQuery } from "./storable-input";
import { validated } from "./validate";

const app = new Hono()
  .use(storablePathAndQuery())
  .get("/items/:id", (c) => c.text(c.req.param("id")))
  .post("/loose", validated("json", v.looseObject({ name: Text(8) }), "Invalid request body"), (c) => c.text("ok"))
  .onError(problemHandler({ log: memoryLogger("t") }));

const detailOf = async (res: Response) => ({
  status: res.status,
  detail: ((await res.json()) as { detail: string }).detail,
});
const post = (body: string) =>
  app.request("/loose", { method: "POST", headers: { "content-type": "application/json" }, body });

describe("storablePathAndQuery", () => {
  it("rejects NUL or a lone surrogate in a path segment or a query key or value", async () => {
    for (const path of ["/items/%00", "/items/%ED%A0%80x%00", "/items/a?q=%00", "/items/a?%00=1"])
      expect((await detailOf(await app.request(path))).status).toBe(400);
    expect(await detailOf(await app.request("/items/a?limit=%00"))).toEqual({
      status: 400,
      detail: 'Invalid request: query parameter "limit" contains NUL or an unpaired surrogate',
    });
  });

  it("lets ordinary and malformed-but-storable escapes through", async () => {
    expect(await (await app.request("/items/caf%C3%A9?x=%ZZ")).text()).toBe("café");
    expect((await app.request("/items/%ZZ")).status).toBe(200);
  });
});

describe("validated", () => {
  it("names the field for a storable-rule issue and keeps the fixed detail for others", async () => {
    expect(await detailOf(await post(`{"name":"toolongname"}`))).toEqual({
      status: 400,
      detail: "Invalid request: name is too long",
    });
    expect(await detailOf(await post(`{"name":5}`))).toEqual({ status: 400, detail: "Invalid request body" });
  });

  it("checks what a loose schema passes through untyped", async () => {
    expect(await detailOf(await post(`{"name":"a","extra":{"deep":["\\u0000"]}}`))).toEqual({
      status: 400,
      detail: "Invalid request: extra.deep.0 contains NUL or an unpaired surrogate",
    });
    expect((await post(`{"name":"a","extra":{"deep":["fine"]}}`)).status).toBe(200);
  });
});
