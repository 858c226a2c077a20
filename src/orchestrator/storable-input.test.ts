/** The 17 inputs of issue 13 that answered 500: each is now a 400 problem+json naming the field (decision 17). */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { safeParse } from "valibot";
import { CONTROL_PLANE_API } from "../contracts/routes";
import { PROBLEM_CONTENT_TYPE } from "../contracts/problem";
import { SandboxSpec } from "../contracts/worker-api";
import { memoryLogger } from "../lib/log";
import { startGatewayFixture, type GatewayFixture } from "../testing/gateway-fixture";
import { createSecretBox, keyFromPassphrase } from "./auth/secret-box";
import { createControlPlane } from "./control-plane/app";
import { jobPayloadFor } from "./gateway/tasks";

const PSK = "storable-psk";
const NUL = "\\u0000";
const LONE = "\\ud800";

let f: GatewayFixture;
let cp: ReturnType<typeof createControlPlane>;
let token: string;
let nodeJwt: string;

const report = (slug: string) =>
  `{"version":1,"reported_at":"2026-02-16T12:00:00Z","node":{"node_slug":"${slug}"},` +
  `"platform":{"os":"linux","arch":"amd64"},"compute":{"cpu_cores":2,"ram_mb":1024}}`;
const register = (slug: string) =>
  cp.request(CONTROL_PLANE_API.register.path(), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: `{"psk":"${PSK}","capability":${report(slug)}}`,
  });
const ack = (fields: string) =>
  cp.request(CONTROL_PLANE_API.config.path(), {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${nodeJwt}` },
    body: `{"version":1,"node_slug":"node-s","status":"failed",${fields}}`,
  });
const gateway = (method: string, path: string, raw?: string) => f.call(method, path, { token, raw });

beforeAll(async () => {
  f = await startGatewayFixture();
  token = (await f.login("alice")).access_token;
  cp = createControlPlane({
    db: f.t.db,
    tokens: f.tokens,
    secrets: createSecretBox(keyFromPassphrase("storable")),
    log: memoryLogger("cp"),
    registrationPsk: PSK,
    publicUrl: "http://orch.test:12082/",
    inferenceModel: "",
  });
  nodeJwt = ((await (await register("node-s")).json()) as { auth: { node_jwt: string } }).auth.node_jwt;
});
afterAll(() => f.close());

async function expect400(res: Response, field: string) {
  expect(res.headers.get("content-type")).toContain(PROBLEM_CONTENT_TYPE);
  const body = (await res.json()) as { detail: string };
  expect({ status: res.status, detail: body.detail }).toMatchObject({ status: 400 });
  expect(body.detail).toContain(field);
}

describe("text Postgres cannot store is a 400 naming the field", () => {
  for (const [name, bad] of [
    ["NUL", NUL],
    ["a lone surrogate", LONE],
  ] as const) {
    it(`login handle with ${name}`, async () => {
      await expect400(await f.call("POST", "/v1/auth/login", { raw: `{"handle":"a${bad}","password":"x"}` }), "handle");
    });
    it(`task prompt with ${name}`, async () => {
      await expect400(await gateway("POST", "/v1/tasks", `{"prompt":"echo ${bad}"}`), "prompt");
    });
    it(`task attachments[] with ${name}`, async () => {
      await expect400(
        await gateway("POST", "/v1/tasks", `{"prompt":"p","attachments":["ok","${bad}"]}`),
        "attachments.1",
      );
    });
    it(`register node_slug with ${name}`, async () => {
      await expect400(await register(`n${bad}`), "node_slug");
    });
    it(`ack config_version with ${name}`, async () => {
      await expect400(await ack(`"config_version":"v${bad}"`), "config_version");
    });
    it(`ack error.message with ${name}`, async () => {
      await expect400(await ack(`"config_version":"v1","error":{"type":"t","message":"m${bad}"}`), "error.message");
    });
  }

  for (const path of ["/v1/tasks/%00", "/v1/tasks/%00/result", "/v1/tasks/%00/logs", "/v1/tasks/a%00b/cancel"])
    it(`${path.endsWith("cancel") ? "POST" : "GET"} ${path}`, async () => {
      await expect400(await gateway(path.endsWith("cancel") ? "POST" : "GET", path), "path");
    });

  it("a query string with NUL", async () => {
    await expect400(await gateway("GET", "/v1/tasks?status=%00"), 'query parameter "status"');
  });
});

describe("arrays and dates are bounded", () => {
  it("10,000 attachments", async () => {
    const many = JSON.stringify({ prompt: "p", attachments: Array.from({ length: 10_000 }, (_, i) => `f${i}`) });
    await expect400(await gateway("POST", "/v1/tasks", many), "attachments");
  });

  it("ack_at = -271821-04-20T00:00:00Z", async () => {
    await expect400(await ack(`"config_version":"v1","ack_at":"-271821-04-20T00:00:00Z"`), "ack_at");
  });

  it("still accepts the largest allowed list and an ordinary ack", async () => {
    const most = JSON.stringify({ prompt: "p", attachments: Array.from({ length: 1000 }, (_, i) => `f${i}`) });
    expect((await gateway("POST", "/v1/tasks", most)).status).toBe(201);
    expect((await ack(`"config_version":"v1","ack_at":"2026-02-16T12:00:00.5+01:00"`)).status).toBe(204);
  });
});

describe("bounds leave room for what the system itself sends", () => {
  it("a prompt of 1 MiB becomes a job payload the Worker API contract accepts", async () => {
    const prompt = "x".repeat(1024 * 1024);
    for (const mode of ["prompt", "commands"] as const) {
      const spec = jobPayloadFor({ prompt, mode }, { sandboxImage: "i", inferenceModel: "m" });
      expect(safeParse(SandboxSpec, spec).success).toBe(true);
    }
    expect((await gateway("POST", "/v1/tasks", JSON.stringify({ prompt }))).status).toBe(201);
  });
});
