import { beforeEach, describe, expect, it } from "bun:test";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createTokens } from "../orchestrator/auth/tokens";
import { useCynorkFixture } from "../testing/cynork-fixture";
import { JWT_TEST_SECRET, PASSWORD } from "../testing/gateway-fixture";
import { memoryIo } from "../testing/memory-io";
import { runCli } from "./cli";
import { finishTaskAsNode } from "../testing/finish-task-as-node";
import { sql } from "kysely";
import { parseJobSpec } from "../contracts/sba";

const f = useCynorkFixture();
/** Each test runs cynork against the real gateway with a fresh config file. */
beforeEach(() => {
  f.config = join(f.dir, `${crypto.randomUUID()}`, "config.yaml");
});
const { cynork } = f;
const json = (s: string) => JSON.parse(s);
const login = (handle = "alice") =>
  cynork(["auth", "login", "-u", handle, "--password-stdin"], { stdin: `${PASSWORD}\n` });

const finishTask = (taskId: string, stdout: string, stderr = "", status: "completed" | "failed" = "completed") =>
  finishTaskAsNode(f.t.db, taskId, { stdout, stderr, status });
const setRunning = (taskId: string) =>
  f.t.db.updateTable("tasks").set({ status: "running" }).where("id", "=", taskId).execute();

describe("cynork status and version", () => {
  it("reports a healthy gateway", async () => {
    expect(await cynork(["status"])).toMatchObject({ code: 0, stdout: "ok\n" });
    expect(json((await cynork(["status", "-o", "json"])).stdout)).toEqual({ gateway: "ok" });
  });

  it("exits 7 when the gateway is unreachable", async () => {
    const r = await cynork(["status"], { env: { CYNORK_GATEWAY_URL: "http://127.0.0.1:1" } });
    expect(r.code).toBe(7);
    expect(r.stderr).toStartWith("Error: gateway unreachable: ");
  });

  it("exits 2 in one line when the --ca-file cannot be read", async () => {
    const r = await cynork(["--ca-file", join(f.dir, "no-such-ca.pem"), "status"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("cannot read CA file");
  });

  it("prints the version in both formats", async () => {
    expect((await cynork(["version"])).stdout).toMatch(/^cynork version=\S+\n$/);
    expect(Object.keys(json((await cynork(["-o", "json", "version"])).stdout))).toEqual(["version"]);
  });
});

describe("cynork auth login", () => {
  it("logs in with --password-stdin, stores the tokens privately, and whoami uses them", async () => {
    const r = await login();
    expect(r).toMatchObject({ code: 0, stdout: "logged_in=true user=alice\n" });
    const saved = Bun.YAML.parse(await readFile(f.config, "utf8")) as Record<string, string>;
    expect(saved.token).toBeString();
    expect(saved.refresh_token).toBeString();
    expect((await stat(f.config)).mode & 0o777).toBe(0o600);
    expect((await stat(join(f.config, ".."))).mode & 0o777).toBe(0o700);
    expect((await cynork(["auth", "whoami"])).stdout).toBe(`id=${f.users.alice} user=alice\n`);
    expect(json((await cynork(["auth", "whoami", "-o", "json"])).stdout)).toEqual({ id: f.users.alice, user: "alice" });
  });

  it("prompts for user and password on stderr when they are not given", async () => {
    const r = await cynork(["auth", "login"], { stdin: `bob\n${PASSWORD}\n` });
    expect(r).toMatchObject({ code: 0, stdout: "logged_in=true user=bob\n", stderr: "User: Password: " });
  });

  it("reads the password without echo on a TTY", async () => {
    const r = await cynork(["auth", "login", "--handle", "bob"], { stdin: `${PASSWORD}\r`, tty: true });
    expect(r.code).toBe(0);
    expect(r.m.rawMode).toEqual([true, false]);
    expect(r.stderr).toBe("Password: \n");
  });

  it("exits 3 on bad credentials and 2 on usage mistakes, before any request", async () => {
    const bad = await cynork(["auth", "login", "-u", "alice", "--password-stdin"], { stdin: "wrong\n" });
    expect(bad).toMatchObject({ code: 3, stderr: "Error: 401 Unauthorized: Invalid credentials\n" });
    expect((await cynork(["auth", "login", "--password-stdin"])).stderr).toBe(
      "Error: --password-stdin requires --user\n",
    );
    expect((await cynork(["auth", "login", "--password", "x"])).code).toBe(2);
    expect((await cynork(["auth", "login", "-u", "alice", "--password-stdin"], { stdin: "" })).code).toBe(2);
    expect((await cynork(["auth", "login"], { stdin: "" })).code).toBe(2);
  });
});

describe("cynork auth refresh and logout", () => {
  it("refreshes the session, rotating both tokens", async () => {
    await login();
    const before = await readFile(f.config, "utf8");
    const r = await cynork(["auth", "refresh"]);
    expect(r).toMatchObject({ code: 0, stdout: "Token refreshed successfully.\n" });
    const after = Bun.YAML.parse(await readFile(f.config, "utf8")) as Record<string, string>;
    const old = Bun.YAML.parse(before) as Record<string, string>;
    expect(after.token).not.toBe(old.token);
    expect(after.refresh_token).not.toBe(old.refresh_token);
    expect((await cynork(["auth", "whoami"])).code).toBe(0);
    expect(json((await cynork(["auth", "refresh", "-o", "json"])).stdout)).toEqual({ refreshed: true });
  });

  it("exits 3 for refresh without a stored refresh token or with a revoked one", async () => {
    expect((await cynork(["auth", "refresh"])).stderr).toBe("Error: no refresh token: run 'cynork auth login' first\n");
    await login();
    const stale = (Bun.YAML.parse(await readFile(f.config, "utf8")) as Record<string, string>).refresh_token!;
    await cynork(["auth", "refresh"]);
    await writeFile(f.config, `refresh_token: ${stale}\n`);
    expect((await cynork(["auth", "refresh"])).code).toBe(3);
  });

  it("logs out, ending the session at the gateway, after which whoami exits 3", async () => {
    await login();
    const { token, refresh_token } = Bun.YAML.parse(await readFile(f.config, "utf8")) as Record<string, string>;
    await writeFile(f.config, `${await readFile(f.config, "utf8")}credential_helper: keep-me\n`);
    expect(await cynork(["auth", "logout"])).toMatchObject({ code: 0, stdout: "logged_out=true\n" });
    const saved = Bun.YAML.parse(await readFile(f.config, "utf8")) as Record<string, string>;
    expect(saved).toEqual({ credential_helper: "keep-me" });
    expect((await f.call("POST", "/v1/auth/refresh", { body: { refresh_token } })).status).toBe(401);
    // The access token died with its session on the server, not only in the file.
    expect((await f.call("GET", "/v1/users/me", { token })).status).toBe(401);
    const who = await cynork(["auth", "whoami"]);
    expect(who).toMatchObject({ code: 3, stderr: "Error: not logged in: run 'cynork auth login'\n" });
    expect(json((await cynork(["auth", "logout", "-o", "json"])).stdout)).toEqual({ logged_out: true });
  });

  it("ends the session at the gateway with only an access token stored", async () => {
    await login();
    const { token } = Bun.YAML.parse(await readFile(f.config, "utf8")) as Record<string, string>;
    await writeFile(f.config, `token: ${token}\n`);
    expect((await cynork(["auth", "logout"])).code).toBe(0);
    expect((await f.call("GET", "/v1/users/me", { token })).status).toBe(401);
  });

  it("logs out locally even when the gateway is down", async () => {
    await login();
    const r = await cynork(["auth", "logout"], { env: { CYNORK_GATEWAY_URL: "http://127.0.0.1:1" } });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("warning: gateway logout failed");
    expect(Bun.YAML.parse(await readFile(f.config, "utf8"))).toEqual({});
  });
});

describe("cynork auth tokens", () => {
  it("prefers CYNORK_TOKEN and never writes it to the file", async () => {
    const { access_token } = await f.login("bob");
    await login("alice");
    const r = await cynork(["auth", "whoami"], { env: { CYNORK_TOKEN: access_token } });
    expect(r.stdout).toContain("user=bob");
    await cynork(["auth", "refresh"], { env: { CYNORK_TOKEN: access_token } });
    expect(await readFile(f.config, "utf8")).not.toContain(access_token);
  });

  it("refreshes an expired access token once, transparently, and keeps the new pair", async () => {
    await login();
    const saved = Bun.YAML.parse(await readFile(f.config, "utf8")) as Record<string, string>;
    const past = createTokens({
      secret: JWT_TEST_SECRET,
      ttl: { accessMs: 60_000, refreshMs: 60_000, nodeMs: 60_000 },
      now: () => new Date(Date.now() - 3_600_000),
    });
    const { token: expired } = await past.issueAccess({ id: f.users.alice!, handle: "alice" }, crypto.randomUUID());
    await writeFile(f.config, Bun.YAML.stringify({ token: expired, refresh_token: saved.refresh_token }));
    expect((await cynork(["auth", "whoami"])).stdout).toContain("user=alice");
    const now = Bun.YAML.parse(await readFile(f.config, "utf8")) as Record<string, string>;
    expect(now.token).not.toBe(expired);
    expect(now.refresh_token).not.toBe(saved.refresh_token);
  });
});

/** A describe whose tests each start logged in as alice. */
const describeLoggedIn = (name: string, tests: () => void) =>
  describe(name, () => {
    beforeEach(async () => void (await login()));
    tests();
  });

describeLoggedIn("cynork task create and show", () => {
  it("creates a task from a prompt and shows it with get, list and result", async () => {
    const created = await cynork(["task", "create", "-p", "What is 2+2?", "--task-name", "My Task"]);
    expect(created.code).toBe(0);
    const [, id, name] = /^task_id=(\S+) task_name=(\S+)\n$/.exec(created.stdout)!;
    expect(name).toBe("my-task");
    expect((await cynork(["task", "get", id!])).stdout).toBe(`task_id=${id} status=queued task_name=my-task\n`);
    expect(json((await cynork(["task", "get", "my-task", "-o", "json"])).stdout)).toMatchObject({
      task_id: id,
      status: "queued",
    });
    expect((await cynork(["task", "list", "--status", "queued"])).stdout).toContain(
      `task_id=${id} status=queued task_name=my-task\n`,
    );
    const pending = json((await cynork(["task", "result", id!, "-o", "json"])).stdout);
    expect(pending).toMatchObject({ task_id: id, status: "queued" });
    expect(pending.stdout).toBeUndefined();
  });

  it("runs --command mode and prints the job output once the node has run it", async () => {
    const created = json(
      (await cynork(["task", "create", "--command", "echo hello", "--command", "echo two", "-o", "json"])).stdout,
    );
    const job = await f.t.db
      .selectFrom("jobs")
      .select("payload")
      .where("task_id", "=", created.task_id)
      .executeTakeFirstOrThrow();
    expect(job.payload).toMatchObject({ command: ["sh", "-c", "echo hello\necho two"] });
    await finishTask(created.task_id, "hello\ntwo\n", "warn\n");
    const r = await cynork(["task", "result", created.task_id]);
    expect(r.stdout).toBe(
      `task_id=${created.task_id} status=completed task_name=${created.task_name} stdout="hello\\ntwo\\n" stderr="warn\\n"\n`,
    );
    const j = json((await cynork(["task", "result", created.task_id, "-o", "json"])).stdout);
    expect(j).toMatchObject({ status: "completed", stdout: "hello\ntwo\n", stderr: "warn\n" });
    // Each job's result prints parsed (reference-agents §0.12), as an object.
    expect(j.jobs[0].result).toMatchObject({ status: "completed", stdout: "hello\ntwo\n" });
    const logs = await cynork(["task", "logs", created.task_id]);
    expect(logs).toMatchObject({ stdout: "hello\ntwo\n", stderr: "warn\n" });
    expect(json((await cynork(["task", "logs", created.task_id, "--stream", "stdout", "-o", "json"])).stdout)).toEqual({
      task_id: created.task_id,
      stream: "stdout",
      stdout: "hello\ntwo\n",
      stderr: "",
      lines: ["hello", "two"],
    });
  });
});

describeLoggedIn("cynork task waits and follows", () => {
  it("waits with --result and result --wait, polling until the task ends", async () => {
    const id = /task_id=(\S+)/.exec((await cynork(["task", "create", "-t", "do it"])).stdout)![1]!;
    const waited = await cynork(["task", "result", id, "-w", "--wait-interval", "1s"], {
      onSleep: async (n) => void (n === 1 ? await setRunning(id) : await finishTask(id, "done\n")),
    });
    expect(waited.stdout).toContain("status=completed");
    expect(waited.m.sleeps).toEqual([1000, 1000]);

    let taskId = "";
    const r = await cynork(["task", "create", "-p", "x", "--result"], {
      tty: true,
      onSleep: async () => {
        taskId = (await f.t.db.selectFrom("tasks").select("id").orderBy("created_at", "desc").executeTakeFirstOrThrow())
          .id;
        await finishTask(taskId, "", "boom\n", "failed");
      },
    });
    expect(r.stdout).toBe(
      `task_id=${taskId} status=failed task_name=${/task_name=(\S+)/.exec(r.stdout)![1]} stdout="" stderr="boom\\n"\n`,
    );
    expect(r.stderr).toContain("queued…");
    expect(r.m.sleeps).toEqual([250]);
  });

  it("ends a wait quietly on Ctrl+C", async () => {
    const id = /task_id=(\S+)/.exec((await cynork(["task", "create", "-p", "x"])).stdout)![1]!;
    const m = memoryIo({ env: { CYNORK_GATEWAY_URL: f.server.url.href }, onSleep: () => m.interrupt() });
    expect(await runCli(["-c", f.config, "task", "result", id, "--wait"], m.io)).toBe(0);
    expect(m.stdout()).toBe("");
  });

  it("follows logs until the task ends and watches the result", async () => {
    const id = /task_id=(\S+)/.exec((await cynork(["task", "create", "-p", "x"])).stdout)![1]!;
    const follow = await cynork(["task", "logs", id, "-F"], { onSleep: () => finishTask(id, "line 1\n") });
    expect(follow.stdout).toBe("line 1\n");
    const followJson = await cynork(["task", "logs", id, "--follow", "-o", "json"]);
    expect(json(followJson.stdout)).toMatchObject({ lines: ["line 1"] });

    const id2 = /task_id=(\S+)/.exec((await cynork(["task", "create", "-p", "y"])).stdout)![1]!;
    const watched = await cynork(["task", "watch", id2, "--interval", "1s"], {
      onSleep: () => finishTask(id2, "ok\n"),
    });
    expect(watched.stdout).toStartWith(
      `Every 1s: cynork task result ${id2}  2026-01-02T03:04:05Z\n\ntask_id=${id2} status=queued`,
    );
    expect(watched.stdout).toContain("status=completed");
    const watchedJson = await cynork(["task", "watch", id2, "-o", "json"]);
    expect(json(watchedJson.stdout)).toMatchObject({ status: "completed" });
  });
});

describeLoggedIn("cynork agent tasks", () => {
  const jobOf = (taskId: string) =>
    f.t.db.selectFrom("jobs").selectAll().where("task_id", "=", taskId).executeTakeFirstOrThrow();
  /** What a node's step reports leave in the job while it runs. */
  const stepsSoFar = async (taskId: string, lines: string[]) => {
    await setRunning(taskId);
    await f.t.db
      .updateTable("jobs")
      .set({ status: "running", progress: sql`${JSON.stringify(lines)}::text::jsonb` })
      .where("task_id", "=", taskId)
      .execute();
  };

  it("creates an agent task with --use-sba: the goal is the spec's task context", async () => {
    const created = json(
      (await cynork(["task", "create", "-p", "count the interfaces", "--use-sba", "-o", "json"])).stdout,
    );
    const payload = (await jobOf(created.task_id)).payload as { job_spec_json: string };
    const spec = parseJobSpec(payload.job_spec_json);
    if (!spec.ok) throw new Error(spec.error);
    expect(spec.spec).toMatchObject({ task_id: created.task_id, context: { task_context: "count the interfaces" } });
  });

  it("follows an agent's step lines as they come, then its answer, with logs -F and watch", async () => {
    const id = /task_id=(\S+)/.exec((await cynork(["task", "create", "-p", "goal", "--use-sba"])).stdout)![1]!;
    await stepsSoFar(id, ["step 1: model turn"]);
    let polls = 0;
    const follow = await cynork(["task", "logs", id, "-F"], {
      onSleep: async () =>
        ++polls === 1
          ? stepsSoFar(id, ["step 1: model turn", "step 2: run_command"])
          : finishTask(id, "There is 1 interface."),
    });
    expect(follow.stdout).toBe("step 1: model turn\nstep 2: run_command\nThere is 1 interface.");

    const id2 = /task_id=(\S+)/.exec((await cynork(["task", "create", "-p", "goal", "--use-sba"])).stdout)![1]!;
    await stepsSoFar(id2, ["step 1: model turn"]);
    const watched = await cynork(["task", "watch", id2, "--interval", "1s"], {
      onSleep: () => finishTask(id2, "done"),
    });
    expect(watched.stdout).toContain(`task_id=${id2} status=running task_name=`);
    expect(watched.stdout).toContain("\nstep 1: model turn\n");
    expect(watched.stdout).toContain("status=completed");
  });
});

describeLoggedIn("cynork task cancel and inputs", () => {
  it("cancels with -y, and asks first on a terminal", async () => {
    const id = /task_id=(\S+)/.exec((await cynork(["task", "create", "-p", "x"])).stdout)![1]!;
    const no = await cynork(["task", "cancel", id], { stdin: "n\n", tty: true });
    expect(no).toMatchObject({ code: 0, stdout: "", stderr: `Cancel task ${id}? [y/N] task ${id} not canceled\n` });
    expect((await cynork(["task", "get", id])).stdout).toContain("status=queued");
    const yes = await cynork(["task", "cancel", id], { stdin: "y\n", tty: true });
    expect(yes.stdout).toBe(`task_id=${id} canceled=true\n`);
    expect(json((await cynork(["task", "cancel", "-y", id, "-o", "json"])).stdout)).toEqual({
      task_id: id,
      canceled: true,
    });
    expect((await cynork(["task", "get", id])).stdout).toContain("status=canceled");
  });

  it("refuses without -y when no terminal can confirm, before any request, and cancels nothing", async () => {
    const id = /task_id=(\S+)/.exec((await cynork(["task", "create", "-p", "x"])).stdout)![1]!;
    for (const stdin of [undefined, "y\n"]) {
      const r = await cynork(["task", "cancel", id], { stdin });
      expect(r).toMatchObject({
        code: 2,
        stdout: "",
        stderr: `Error: not canceling task ${id} without confirmation: pass -y (--yes)\n`,
      });
    }
    expect((await cynork(["task", "get", id])).stdout).toContain("status=queued");
    // A usage error comes before the missing token (reference-contracts 7.3).
    const anonymous = await cynork(["-c", join(f.dir, "none.yaml"), "task", "cancel", id]);
    expect(anonymous.code).toBe(2);
  });

  it("sends files, scripts, attachments and options as the gateway expects", async () => {
    const script = join(f.dir, "job.sh");
    await writeFile(script, "#!/bin/sh\necho s\n");
    const commands = join(f.dir, "cmds.txt");
    await writeFile(commands, "echo a\n\n  \necho b\n");
    const prompt = join(f.dir, "task.md");
    await writeFile(prompt, "# Do things\n");
    const s = json(
      (
        await cynork([
          "task",
          "create",
          "-s",
          script,
          "--use-inference",
          "-a",
          prompt,
          "--attachment",
          script,
          "-o",
          "json",
        ])
      ).stdout,
    );
    expect(s.attachments).toEqual([prompt, script]);
    const jobOf = async (id: string) =>
      (await f.t.db.selectFrom("jobs").select("payload").where("task_id", "=", id).executeTakeFirstOrThrow()).payload;
    expect(await jobOf(s.task_id)).toMatchObject({ command: ["sh", "-c", "#!/bin/sh\necho s\n"], use_inference: true });
    const c = json((await cynork(["task", "create", "--commands-file", commands, "-o", "json"])).stdout);
    expect(await jobOf(c.task_id)).toMatchObject({ command: ["sh", "-c", "echo a\necho b"] });
    const p = json((await cynork(["task", "create", "-f", prompt, "--input-mode", "script", "-o", "json"])).stdout);
    expect(await jobOf(p.task_id)).toMatchObject({ command: ["sh", "-c", "# Do things\n"] });
    expect(p.prompt).toBe("# Do things\n");
  });
});

describeLoggedIn("cynork task list and errors", () => {
  it("pages the task list with limit and cursor", async () => {
    for (let i = 0; i < 3; i++) await cynork(["task", "create", "-p", `page ${i}`]);
    const first = await cynork(["task", "list", "-l", "2", "-o", "json"]);
    const page = json(first.stdout);
    expect(page.tasks).toHaveLength(2);
    expect(page.next_cursor).not.toBe("");
    const second = await cynork(["task", "list", "--limit", "2", "--cursor", page.next_cursor]);
    expect(second.stdout.split("\n").filter(Boolean).length).toBeGreaterThan(0);
    expect((await cynork(["task", "list", "-l", "2"])).stderr).toContain(`more: --cursor ${page.next_cursor}`);
    expect((await cynork(["task", "list", "--offset", "0", "-l", "999"])).code).toBe(0);
  });

  it("maps gateway errors to exit codes: 404 → 4, 403 → 3, 400 → 6", async () => {
    const missing = await cynork(["task", "get", "no-such-task"]);
    expect(missing).toMatchObject({ code: 4, stderr: "Error: 404 Not Found: Task not found\n" });
    const bobs = /task_id=(\S+)/.exec(
      (await cynork(["task", "create", "-p", "x"], { env: { CYNORK_TOKEN: (await f.login("bob")).access_token } }))
        .stdout,
    )![1]!;
    expect((await cynork(["task", "result", bobs])).code).toBe(3);
    expect((await cynork(["task", "logs", bobs])).code).toBe(3);
    const badCursor = await cynork(["task", "list", "--cursor", "not-a-number"]);
    expect(badCursor).toMatchObject({ code: 6, stderr: "Error: 400 Bad Request: Invalid limit, offset, or cursor\n" });
  });

  it("exits 3 for any task command without a token, after usage checks", async () => {
    const env = { XDG_CONFIG_HOME: f.dir };
    const m = memoryIo({ env: { ...env, CYNORK_GATEWAY_URL: f.server.url.href } });
    expect(await runCli(["task", "list"], m.io)).toBe(3);
    const usage = memoryIo({ env });
    expect(await runCli(["task", "create"], usage.io)).toBe(2);
  });
});
