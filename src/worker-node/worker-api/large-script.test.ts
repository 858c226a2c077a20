/** Scripts of any size up to the body limit run (decision 18): through real HTTP to the Worker API, into a sandbox. */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import * as v from "valibot";
import { RunJobResponse } from "../../contracts/worker-api";
import { WORKER_API } from "../../contracts/routes";
import { memoryLogger } from "../../lib/log";
import { serveApp, type Served } from "../../lib/serve";
import { createSandboxRunner } from "../sandbox/run-job";
import { ensureSandboxImage, testPodman, testSettings } from "../../testing/sandbox-fixture";
import { createWorkerApi } from "./app";

setDefaultTimeout(120_000);
const TOKEN = "worker-token-large-script";
const podman = testPodman();
let server: Served;

beforeAll(async () => {
  await ensureSandboxImage(podman);
  const log = memoryLogger("worker-api");
  const runner = createSandboxRunner({ podman, settings: await testSettings({ maxDiskMb: 64 }), log });
  // The Worker API's default body limit (10 MiB) is the one under test.
  const app = createWorkerApi({ runner, bearerToken: () => TOKEN, notReadyReason: () => null, log });
  server = serveApp(app, { hostname: "127.0.0.1", port: 0 });
});
afterAll(() => server.stop());

describe("POST /v1/worker/jobs:run with a large script", () => {
  it("runs a 1 MiB script and a 9 MiB one, which argv could never carry", async () => {
    for (const mib of [1, 9]) {
      const line = `: ${"x".repeat(1020)}\n`;
      const script = `${line.repeat(Math.ceil((mib * 1024 * 1024) / line.length))}echo "ran $(wc -c < /tmp/.cynode-job.sh) bytes"`;
      const id = crypto.randomUUID();
      const body = { version: 1, task_id: `task-${id}`, job_id: id, sandbox: { command: ["sh", "-c", script] } };
      const res = await fetch(`http://127.0.0.1:${server.port}${WORKER_API.runJob.path()}`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
      const out = v.parse(RunJobResponse, await res.json());
      expect(out).toMatchObject({ status: "completed", exit_code: 0, stderr: "" });
      expect(out.stdout).toBe(`ran ${new TextEncoder().encode(script).length + 1} bytes\n`);
      expect(script.length).toBeGreaterThan(mib * 1024 * 1024);
    }
  });
});
