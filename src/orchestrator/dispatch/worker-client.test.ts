import { afterAll, describe, expect, it } from "bun:test";
import type { RunJobRequest } from "../../contracts/worker-api";
import { cancelJobOnWorker, runJobOnWorker } from "./worker-client";
import { startFakeWorker } from "../../testing/fake-worker";

const request: RunJobRequest = { version: 1, task_id: "t1", job_id: "j1", sandbox: { command: ["true"] } };
const w = startFakeWorker();
w.token = "secret-worker-token";
const target = { baseUrl: w.url + "/", token: w.token };
afterAll(() => w.stop());

describe("runJobOnWorker", () => {
  it("returns the worker's answer with its JSON text, sending the node's bearer token", async () => {
    const out = await runJobOnWorker(target, request, { timeoutMs: 5000 });
    expect(out.kind).toBe("answered");
    if (out.kind === "answered") expect(JSON.parse(out.body)).toEqual(out.response);
    const denied = await runJobOnWorker({ ...target, token: "wrong" }, request, { timeoutMs: 5000 });
    expect(denied).toEqual({
      kind: "rejected",
      error: 'worker answered 401: {"detail":"Invalid or missing bearer token"}',
    });
  });

  it("rejects a 200 that is not a RunJobResponse", async () => {
    w.answer = () => new Response("plain text");
    expect(await runJobOnWorker(target, request, { timeoutMs: 5000 })).toEqual({
      kind: "rejected",
      error: "worker answered 200 with a body that is not JSON",
    });
    w.answer = () => Response.json({ version: 2 });
    const out = await runJobOnWorker(target, request, { timeoutMs: 5000 });
    expect(out.kind === "rejected" && out.error).toStartWith("worker answered 200 with an invalid RunJobResponse");
  });

  it("retries a refused connection, then reports the worker lost", async () => {
    const closed = startFakeWorker();
    await closed.stop();
    const seen: string[] = [];
    const countingFetch = ((url: string, init: RequestInit) => {
      seen.push(url);
      return fetch(url, init);
    }) as typeof fetch;
    const out = await runJobOnWorker({ baseUrl: closed.url, token: "x" }, request, {
      timeoutMs: 5000,
      attempts: 3,
      retryDelayMs: 0,
      fetch: countingFetch,
    });
    expect(out.kind).toBe("lost");
    expect(out.kind === "lost" && out.error).toStartWith("worker unreachable after 3 attempts");
    expect(seen.length).toBe(3);
  });
});

describe("cancelJobOnWorker", () => {
  it("posts the cancel path and reports whether the node acknowledged", async () => {
    expect(await cancelJobOnWorker(target, "job/1", { timeoutMs: 5000 })).toEqual({ ok: true, detail: "status 200" });
    expect(w.cancels).toEqual(["job/1"]);
    expect((await cancelJobOnWorker({ ...target, token: "bad" }, "j", { timeoutMs: 5000 })).ok).toBe(false);
  });
});
