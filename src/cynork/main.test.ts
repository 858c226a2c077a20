import { describe, expect, it } from "bun:test";
import { join } from "node:path";
import { useCynorkFixture } from "../testing/cynork-fixture";
import { finishTaskAsNode } from "../testing/finish-task-as-node";
import { PASSWORD } from "../testing/gateway-fixture";
import { runToExit } from "../testing/run-to-exit";

/** The real process: exit codes, stdin and env exactly as a shell sees them; the fixture's dir is its HOME. */
const f = useCynorkFixture();

const spawnCynork = (argv: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) =>
  runToExit(["bun", join(import.meta.dir, "main.ts"), ...argv], {
    env: { PATH: process.env.PATH!, HOME: f.dir, CYNORK_GATEWAY_URL: f.server.url.href, ...opts.env },
    stdin: opts.stdin ?? "",
  });

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
    expect(await Bun.file(join(f.dir, ".config", "cynork", "config.yaml")).exists()).toBe(true);
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
