import { beforeAll, describe, expect, it } from "bun:test";
import { join } from "node:path";
import * as v from "valibot";
import type { Problem } from "../../contracts/problem";
import { cancelTarget, WORKER_API } from "../../contracts/routes";
import { EGRESS_NEEDS_RESTRICTED, RunJobResponse, type RunJobRequest } from "../../contracts/worker-api";
import { memoryLogger } from "../../lib/log";
import { serveApp } from "../../lib/serve";
import { createSandboxRunner } from "../sandbox/run-job";
import {
  ensureSandboxImage,
  FORK_BOMB_SCRIPT,
  startedSignal,
  testPodman,
  testSettings,
} from "../../testing/sandbox-fixture";
import { createWorkerApi } from "./app";

const TOKEN = "worker-token-for-tests";
const podman = testPodman();
const settings = await testSettings();
const log = memoryLogger("worker-api");
const runner = createSandboxRunner({ podman, settings, log });
let notReady: string | null = "registration not done";
const app = createWorkerApi({
  runner,
  bearerToken: () => TOKEN,
  notReadyReason: () => notReady,
  log,
  maxRequestBytes: () => 10 * 1024 * 1024,
});

const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
const post = (path: string, body: unknown, headers: Record<string, string> = auth) =>
  app.request(path, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });

function jobBody(script: string, sandbox: Partial<RunJobRequest["sandbox"]> = {}): RunJobRequest {
  const id = crypto.randomUUID();
  return {
    version: 1,
    task_id: crypto.randomUUID(),
    job_id: id,
    sandbox: { command: ["sh", "-c", script], ...sandbox },
  };
}
async function run(script: string, sandbox: Partial<RunJobRequest["sandbox"]> = {}) {
  const res = await post(WORKER_API.runJob.path(), jobBody(script, sandbox));
  expect(res.status).toBe(200);
  return v.parse(RunJobResponse, await res.json());
}
async function problem(res: Response) {
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  return { ...((await res.json()) as Problem), status: res.status };
}

beforeAll(() => ensureSandboxImage(podman));

describe("health", () => {
  it("answers /healthz always and /readyz 503 with the reason until ready", async () => {
    expect(await (await app.request("/healthz")).text()).toBe("ok");
    const before = await app.request("/readyz");
    expect([before.status, await before.text()]).toEqual([503, "registration not done"]);
    notReady = null;
    const after = await app.request("/readyz");
    expect([after.status, await after.text(), after.headers.get("content-type")]).toEqual([
      200,
      "ready",
      "text/plain; charset=utf-8",
    ]);
  });
});

describe("POST /v1/worker/jobs:run — request checks", () => {
  it("rejects a missing, wrong or differently-cased bearer token with 401", async () => {
    for (const authorization of [undefined, "Bearer nope", `bearer ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const res = await post(WORKER_API.runJob.path(), jobBody("true"), authorization ? { authorization } : {});
      expect(await problem(res)).toMatchObject({ status: 401, detail: "Invalid or missing bearer token" });
    }
    const noToken = createWorkerApi({ runner, bearerToken: () => undefined, notReadyReason: () => null, log });
    const res = await noToken.request(WORKER_API.runJob.path(), {
      method: "POST",
      headers: { authorization: "Bearer " },
    });
    expect(res.status).toBe(401);
  });

  it("rejects bodies over the limit with 413 problem+json", async () => {
    const big = JSON.stringify({ ...jobBody("true"), pad: "x".repeat(10 * 1024 * 1024) });
    expect(await problem(await post(WORKER_API.runJob.path(), big))).toMatchObject({
      status: 413,
      title: "Request Entity Too Large",
      detail: "Request body exceeds maximum size",
    });
  });

  it("answers malformed JSON and invalid requests with the reference's 400 details, and egress hosts on a job that is not restricted", async () => {
    const cases: [unknown, string][] = [
      ["{not json", "Invalid request body"],
      ["[1]", "Invalid request body"],
      [{ ...jobBody("true"), sandbox: { command: [] } }, "sandbox.command is required when job_spec_json is not set"],
      [{ version: 2, task_id: "t", job_id: "j" }, "sandbox.command is required when job_spec_json is not set"],
      [{ ...jobBody("true"), version: 2 }, "unsupported version"],
      [{ ...jobBody("true"), task_id: "" }, "task_id and job_id are required"],
      [{ ...jobBody("true"), job_id: undefined }, "task_id and job_id are required"],
      [jobBody("true", { network_policy: "open" as "none" }), "network_policy must be none or restricted"],
      [jobBody("true", { egress: { allowed_hosts: ["example.com"] } }), EGRESS_NEEDS_RESTRICTED],
      [
        jobBody("true", { network_policy: "restricted", egress: { allowed_hosts: ["*.*"] } }),
        "allowed_hosts: each entry is host[:port], *.domain[:port] or an IP",
      ],
      [
        jobBody("true", { timeout_seconds: "5" as unknown as number }),
        'sandbox.timeout_seconds: Invalid type: Expected number but received "5"',
      ],
      [jobBody("true", { env: { "BAD-NAME": "x" } }), "sandbox.env key is not a valid variable name: BAD-NAME"],
      [{ ...jobBody("true"), inference: { allowed_models: ["a,b"] } }, "inference.allowed_models: not a model name"],
      [
        { ...jobBody("true"), inference: { allowed_models: [] } },
        "inference.allowed_models must name at least one model",
      ],
    ];
    for (const [body, detail] of cases) {
      expect(await problem(await post(WORKER_API.runJob.path(), body))).toEqual({
        status: 400,
        type: "urn:cynodeai:error:validation",
        title: "Bad Request",
        detail,
      });
    }
  });

  it("answers unknown routes with 404 problem+json", async () => {
    expect((await problem(await post("/v1/worker/jobs/abc:pause", {}))).status).toBe(404);
    expect((await problem(await app.request("/nope"))).status).toBe(404);
  });
});

describe("POST /v1/worker/jobs:run — real podman", () => {
  it("runs hello with exit 0", async () => {
    expect(await run("echo hello")).toMatchObject({
      status: "completed",
      exit_code: 0,
      stdout: "hello\n",
      truncated: { stdout: false, stderr: false },
    });
  });

  it("reports a failing command as failed with its exit code", async () => {
    expect(await run("exit 3")).toMatchObject({ status: "failed", exit_code: 3 });
  });

  it("stops a job at its timeout", async () => {
    expect(await run("sleep 30", { timeout_seconds: 1 })).toMatchObject({ status: "timeout", exit_code: -1 });
  });

  it("truncates 1 MiB of output at 256 KiB, flagged, as valid UTF-8", async () => {
    const res = await run("yes 'ünïcödé' | head -c 1048576");
    expect(res.truncated.stdout).toBe(true);
    const bytes = new TextEncoder().encode(res.stdout);
    expect(bytes.length).toBeLessThanOrEqual(262144);
    expect(new TextDecoder("utf-8", { fatal: true }).decode(bytes)).toBe(res.stdout);
  });

  it("ignores CYNODE_TASK_ID=forged", async () => {
    const body = jobBody("echo $CYNODE_TASK_ID", { env: { CYNODE_TASK_ID: "forged" } });
    const res = v.parse(RunJobResponse, await (await post(WORKER_API.runJob.path(), body)).json());
    expect(res.stdout).toBe(`${body.task_id}\n`);
  });

  it("cannot open a socket to the host or beyond", async () => {
    const res = await run(
      "nc -w 2 127.0.0.1 12090 </dev/null; nc -w 2 10.0.2.2 12090 </dev/null; nc -w 2 8.8.8.8 53 </dev/null; echo done",
    );
    expect(res.stdout).toBe("done\n");
    expect(res.stderr.match(/can't connect/g)?.length).toBe(3);
  });

  it("keeps the worker token out of the sandbox env, /proc/1/environ and mounts", async () => {
    const res = await run("env; tr '\\0' '\\n' </proc/1/environ; cat /proc/self/mountinfo");
    expect(res.status).toBe("completed");
    expect(res.stdout).not.toContain(TOKEN);
  });

  it("holds a fork bomb at the pids limit", async () => {
    const res = await run(FORK_BOMB_SCRIPT, { timeout_seconds: 30 });
    expect(res).toMatchObject({ status: "completed", stdout: `held at ${settings.limits.pids}\n` });
    expect(res.stderr).toContain("can't fork");
  });

  it("cancels a running job via POST /v1/worker/jobs/{job_id}:cancel", async () => {
    const started = startedSignal();
    const body = jobBody(started.command);
    const running = post(WORKER_API.runJob.path(), body);
    await started.seen();
    const cancel = await post(WORKER_API.cancelJob.path({ target: cancelTarget(body.job_id) }), "");
    expect(await cancel.json()).toEqual({ job_id: body.job_id, canceled: true });
    expect(await (await running).json()).toMatchObject({ status: "canceled", exit_code: -1 });
    expect(await (await post(WORKER_API.cancelJob.path({ target: cancelTarget(body.job_id) }), "")).json()).toEqual({
      job_id: body.job_id,
      canceled: false,
    });
  });
});

describe("over real HTTP", () => {
  it("serves a job and rejects an oversized body with 413", async () => {
    const served = serveApp(app, { hostname: "127.0.0.1", port: 0 });
    try {
      const url = new URL(WORKER_API.runJob.path(), served.url);
      const ok = await fetch(url, { method: "POST", headers: auth, body: JSON.stringify(jobBody("echo via-http")) });
      expect(await ok.json()).toMatchObject({ status: "completed", stdout: "via-http\n" });
      const big = await fetch(url, { method: "POST", headers: auth, body: "x".repeat(11 * 1024 * 1024) });
      expect(big.status).toBe(413);
    } finally {
      await served.stop(100); // the refused upload may still be streaming in
    }
  });
});
