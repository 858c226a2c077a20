import { afterAll, describe, expect, it } from "bun:test";
import { CliError } from "./errors";
import { createGatewayClient } from "./gateway-client";

/**
 * An HTTP fake for answers the real gateway never gives (409, bare 5xx, malformed bodies, a hang); the happy paths
 * run against the real gateway in cli.test.ts.
 */
const seen: { url: string; headers: Headers }[] = [];
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    seen.push({ url: req.url, headers: req.headers });
    const path = new URL(req.url).pathname;
    if (path === "/v1/tasks/conflict")
      return Response.json(
        { type: "https://cynode.ai/specs/conflict", title: "Conflict", status: 409, detail: "Busy" },
        { status: 409 },
      );
    if (path === "/v1/tasks/broken") return new Response("<html>oops</html>", { status: 502 });
    if (path === "/v1/tasks/not-json") return new Response("hello", { status: 200 });
    if (path === "/v1/tasks/wrong-shape") return Response.json({ id: 1 });
    if (path === "/v1/tasks/hang") return new Promise<Response>(() => {});
    if (path === "/healthz") return new Response("starting", { status: 503 });
    if (path === "/v1/auth/logout") return new Response(null, { status: req.headers.get("authorization") ? 401 : 204 });
    return new Response(null, { status: 404 });
  },
});
afterAll(() => server.stop(true));

const client = (o: Partial<Parameters<typeof createGatewayClient>[0]> = {}) =>
  createGatewayClient({ baseUrl: `${server.url.href}/`, fetch, userAgent: "cynork/test", token: "tok", ...o });

async function failure(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return { code: (err as CliError).exitCode, message: (err as Error).message };
  }
  throw new Error("expected a CliError");
}

describe("gateway client", () => {
  it("maps problem answers and bare error statuses to exit codes", async () => {
    expect(await failure(client().getTask("conflict"))).toEqual({ code: 5, message: "409 Conflict: Busy" });
    expect(await failure(client().getTask("broken"))).toEqual({ code: 7, message: "502 Bad Gateway" });
    expect(await failure(client().getTask("elsewhere"))).toEqual({ code: 4, message: "404 Not Found" });
  });

  it("rejects success bodies that do not match the contract schema", async () => {
    expect(await failure(client().getTask("not-json"))).toEqual({
      code: 7,
      message: "unexpected response from gateway: not JSON (200)",
    });
    const shape = await failure(client().getTask("wrong-shape"));
    expect(shape.code).toBe(7);
    expect(shape.message).toStartWith("unexpected response from gateway: ");
  });

  it("gives up after its timeout with exit 7", async () => {
    expect(await failure(client({ timeoutMs: 50 }).getTask("hang"))).toEqual({
      code: 7,
      message: "gateway request timed out after 0.05s",
    });
  });

  it("sends the User-Agent and the bearer token, and reports an unhealthy gateway", async () => {
    expect(await client().healthy()).toEqual({ ok: false, detail: "503 Service Unavailable" });
    const req = seen.at(-1)!;
    expect(req.headers.get("user-agent")).toBe("cynork/test");
    expect(req.headers.get("authorization")).toBeNull();
    await failure(client().me());
    expect(seen.at(-1)!.headers.get("authorization")).toBe("Bearer tok");
  });

  it("never refreshes on a 401 from logout", async () => {
    let refreshed = 0;
    const c = client({ refreshToken: "r", onRefreshed: async () => void refreshed++ });
    expect((await failure(c.logout("r"))).code).toBe(3);
    expect(refreshed).toBe(0);
    expect(seen.at(-1)!.url).toEndWith("/v1/auth/logout");
    expect(await client({ token: undefined }).logout("r")).toBeUndefined();
  });
});
