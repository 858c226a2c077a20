import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finishTaskAsNode } from "../testing/finish-task-as-node";
import { PASSWORD, startGatewayFixture, type GatewayFixture } from "../testing/gateway-fixture";

/** The real process: exit codes, stdin and env exactly as a shell sees them. */
let f: GatewayFixture;
let home: string;
beforeAll(async () => {
  f = await startGatewayFixture();
  home = await mkdtemp(join(tmpdir(), "cynork-main-"));
});
afterAll(() => f.close());

async function spawnCynork(argv: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) {
  const proc = Bun.spawn(["bun", join(import.meta.dir, "main.ts"), ...argv], {
    env: { PATH: process.env.PATH!, HOME: home, CYNORK_GATEWAY_URL: f.server.url.href, ...opts.env },
    stdin: new TextEncoder().encode(opts.stdin ?? ""),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

describe("cynork process", () => {
  it("exits with the documented codes", async () => {
    expect(await spawnCynork(["version"])).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^cynork version=/),
    });
    expect(await spawnCynork(["task", "list", "--bogus"])).toMatchObject({
      code: 2,
      stderr: "Error: unknown flag: --bogus\n",
    });
    expect((await spawnCynork(["status"], { env: { CYNORK_GATEWAY_URL: "http://127.0.0.1:1" } })).code).toBe(7);
  });

  it("logs in from stdin into ~/.config, creates a task, logs out, and then whoami exits 3", async () => {
    const login = await spawnCynork(["auth", "login", "-u", "alice", "--password-stdin"], { stdin: `${PASSWORD}\n` });
    expect(login).toMatchObject({ code: 0, stdout: "logged_in=true user=alice\n", stderr: "" });
    expect(await Bun.file(join(home, ".config", "cynork", "config.yaml")).exists()).toBe(true);
    expect((await spawnCynork(["auth", "whoami"])).stdout).toBe(`id=${f.users.alice} user=alice\n`);
    const created = await spawnCynork(["-o", "json", "task", "create", "--command", "echo hello"]);
    expect(JSON.parse(created.stdout)).toMatchObject({ status: "queued", prompt: "echo hello" });
    const big = "0123456789abcdef\n".repeat(64 * 1024);
    await finishTaskAsNode(f.t.db, JSON.parse(created.stdout).task_id, { stdout: big });
    const logs = await spawnCynork(["task", "logs", JSON.parse(created.stdout).task_id]);
    expect(logs.stdout.length).toBe(big.length); // all of it reaches the pipe before the process exits
    expect(await spawnCynork(["auth", "logout"])).toMatchObject({ code: 0, stdout: "logged_out=true\n" });
    expect(await spawnCynork(["auth", "whoami"])).toMatchObject({
      code: 3,
      stderr: "Error: not logged in: run 'cynork auth login'\n",
    });
  });
});
