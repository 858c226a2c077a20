import { afterAll, describe, expect, it } from "bun:test";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memoryLogger } from "../lib/log";
import type { TestResponse } from "../testing/gateway-fixture";
import { loadConfig } from "./config";
import { startOrchestrator, type RunningOrchestrator } from "./start";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function boot(stateDir: string, env: Record<string, string> = {}) {
  const config = loadConfig(
    { USER_GATEWAY_LISTEN_ADDR: "127.0.0.1:0", CONTROL_PLANE_LISTEN_ADDR: "127.0.0.1:0", ...env },
    { stateDir },
  );
  const announced: string[] = [];
  const running = await startOrchestrator(config, memoryLogger("orchestrator"), { announce: (l) => announced.push(l) });
  return { running, announced };
}

const post = (o: RunningOrchestrator, path: string, body: unknown, token?: string): Promise<TestResponse> =>
  fetch(new URL(path, o.gateway.url), {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });

describe("orchestrator on its embedded Postgres", () => {
  it("keeps users, tasks and sessions across a restart, and announces a generated admin password once", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "cynode-orch-"));
    dirs.push(stateDir);

    const first = await boot(stateDir);
    const line = first.announced.find((l) => l.startsWith("bootstrap admin created"));
    const password = /password=(\S+)/.exec(line ?? "")?.[1];
    expect(password).toBeDefined();
    const login = await (await post(first.running, "/v1/auth/login", { handle: "admin", password })).json();
    const task = await (
      await post(
        first.running,
        "/v1/tasks",
        { prompt: "echo kept", input_mode: "commands", task_name: "kept" },
        login.access_token,
      )
    ).json();
    expect(task.status).toBe("queued");
    await first.running.stop();

    expect((await stat(join(stateDir, "jwt-secret"))).mode & 0o777).toBe(0o600);

    const second = await boot(stateDir);
    expect(second.announced).toEqual([]);
    // The refresh session and the signing secret survived: the old refresh token still rotates.
    const refreshed = await post(second.running, "/v1/auth/refresh", { refresh_token: login.refresh_token });
    expect(refreshed.status).toBe(200);
    const { access_token } = await refreshed.json();
    const again: TestResponse = await fetch(new URL("/v1/tasks/kept", second.running.gateway.url), {
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect((await again.json()).id).toBe(task.id);
    expect((await post(second.running, "/v1/auth/login", { handle: "admin", password })).status).toBe(200);
    await second.running.stop();
  }, 60_000);

  it("uses BOOTSTRAP_ADMIN_PASSWORD and JWT_SECRET when given, and announces nothing", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "cynode-orch-"));
    dirs.push(stateDir);
    const { running, announced } = await boot(stateDir, {
      BOOTSTRAP_ADMIN_PASSWORD: "chosen-pw",
      JWT_SECRET: "from-env-secret-0123456789abcdef",
    });
    expect(announced).toEqual([]);
    expect((await post(running, "/v1/auth/login", { handle: "admin", password: "chosen-pw" })).status).toBe(200);
    expect(await Bun.file(join(stateDir, "jwt-secret")).exists()).toBe(false);
    // No NODE_REGISTRATION_PSK: one is generated into the state dir and nodes register with it.
    const psk = (await Bun.file(join(stateDir, "node-registration-psk")).text()).trim();
    expect((await stat(join(stateDir, "node-registration-psk"))).mode & 0o777).toBe(0o600);
    const cp = (path: string, body?: unknown) =>
      fetch(
        new URL(path, running.controlPlane.url),
        body ? { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) } : {},
      );
    const capability = {
      version: 1,
      reported_at: new Date().toISOString(),
      node: { node_slug: "n1" },
      platform: { os: "linux", arch: "x64" },
      compute: { cpu_cores: 2, ram_mb: 1024 },
    };
    expect((await cp("/v1/nodes/register", { psk: "wrong", capability })).status).toBe(401);
    expect((await cp("/v1/nodes/register", { psk, capability })).status).toBe(201);
    const ready = await cp("/readyz");
    expect([ready.status, await ready.text()]).toEqual([503, expect.stringContaining("no inference path")]);
    await running.stop();
  }, 60_000);
});
