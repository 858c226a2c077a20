import { beforeAll, describe, expect, it } from "bun:test";
import { useCynorkFixture } from "../testing/cynork-fixture";
import { PASSWORD } from "../testing/gateway-fixture";
import { memoryIo } from "../testing/memory-io";
import { runCli } from "./cli";
import { CliError } from "./errors";
import { finishTaskAsNode } from "../testing/finish-task-as-node";
import { pollInterval, resultPollDelay } from "./wait-for-task";
import { eventually } from "../testing/until";

describe("pollInterval", () => {
  it("parses durations of at least one second, defaulting to 2s", () => {
    expect([
      pollInterval(undefined, "--interval"),
      pollInterval("1s", "--interval"),
      pollInterval("1m", "--interval"),
      pollInterval("3", "--interval"),
    ]).toEqual([2000, 1000, 60_000, 3000]);
  });

  it("keeps whole milliseconds, the finest wait the gateway takes", () => {
    expect([pollInterval("1.0005s", "-n"), pollInterval("1.0004s", "-n"), pollInterval("1500.6ms", "-n")]).toEqual([
      1001, 1000, 1501,
    ]);
  });

  it("rejects bad or too short intervals with a usage error", () => {
    expect(() => pollInterval("fast", "--wait-interval")).toThrow(
      new CliError(2, 'invalid --wait-interval "fast": use a duration such as 2s'),
    );
    expect(() => pollInterval("500ms", "--interval")).toThrow("--interval must be at least 1s");
  });
});

describe("resultPollDelay", () => {
  it("polls every 250 ms for the first two seconds, then every 2 s", () => {
    expect(Array.from({ length: 10 }, (_, tick) => resultPollDelay(tick))).toEqual([
      250, 250, 250, 250, 250, 250, 250, 250, 2000, 2000,
    ]);
  });
});

describe("waiting on a gateway that long-polls", () => {
  const f = useCynorkFixture({ longPoll: true });
  const { cynork } = f;
  beforeAll(async () => {
    await cynork(["auth", "login", "-u", "alice", "--password-stdin"], { stdin: `${PASSWORD}\n` });
  });
  const newTask = async () => /task_id=(\S+)/.exec((await cynork(["task", "create", "-p", "x"])).stdout)![1]!;
  /** Ends the task from elsewhere once the CLI is (very likely) waiting; the CLI must not poll meanwhile. */
  const finishSoon = (id: string) => setTimeout(() => void finishTaskAsNode(f.t.db, id, { stdout: "done\n" }), 200);

  it("result --wait answers when the task ends, without polling", async () => {
    const id = await newTask();
    finishSoon(id);
    const r = await cynork(["task", "result", id, "--wait"]);
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toContain("status=completed");
    expect(r.m.sleeps).toEqual([]);
  }, 30_000);

  it("create --result answers when the task ends, without polling", async () => {
    const ended = eventually(
      () => f.t.db.selectFrom("tasks").select("id").where("prompt", "=", "create-result").executeTakeFirst(),
      "the task to be created",
    ).then((row) => finishTaskAsNode(f.t.db, row.id, { stdout: "made\n" }));
    const r = await cynork(["task", "create", "-p", "create-result", "--result"]);
    await ended;
    expect(r.stdout).toContain("status=completed task_name=task-");
    expect(r.stdout).toContain('stdout="made\\n"');
    expect(r.m.sleeps).toEqual([]);
  }, 30_000);

  it("watch refreshes by long-poll and shows the end at once", async () => {
    const id = await newTask();
    finishSoon(id);
    const r = await cynork(["task", "watch", id, "--interval", "20s"]);
    expect(r.stdout).toContain("status=completed");
    expect(r.m.sleeps).toEqual([]);
  }, 30_000);

  it("watch sends an interval finer than a millisecond as a wait the gateway takes", async () => {
    const id = await newTask();
    await finishTaskAsNode(f.t.db, id, { stdout: "done\n" });
    const r = await cynork(["task", "watch", id, "-n", "1.0005s"]);
    expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toContain("status=completed");
  }, 30_000);

  it("ends a long-poll quietly on Ctrl+C", async () => {
    const id = await newTask();
    const m = memoryIo({ env: { CYNORK_GATEWAY_URL: f.server.url.href } });
    setTimeout(() => m.interrupt(), 200);
    expect(await runCli(["-c", f.config, "task", "result", id, "--wait"], m.io)).toBe(0);
    const w = memoryIo({ env: { CYNORK_GATEWAY_URL: f.server.url.href } });
    setTimeout(() => w.interrupt(), 200);
    expect(await runCli(["-c", f.config, "-o", "json", "task", "watch", id, "--interval", "20s"], w.io)).toBe(0);
    expect(m.stdout() + w.stdout()).toBe("");
  }, 30_000);
});
