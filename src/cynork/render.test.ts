import { describe, expect, it } from "bun:test";
import { render, jobsOutput, logsValue, resultValue } from "./render";
import { completedRun } from "../testing/completed-run";

describe("render", () => {
  const task = { task_id: "t1", status: "completed", task_name: "my-task", stdout: "hello\n", stderr: "", jobs: [] };

  it("prints exactly one pretty JSON value in json mode, whatever the table spec", () => {
    expect(render(task, "json", { keys: ["task_id"] })).toEqual({
      stdout: `${JSON.stringify(task, null, 2)}\n`,
      stderr: "",
    });
    expect(render({ s: "<&>" }, "json", {}).stdout).toBe('{\n  "s": "<&>"\n}\n');
  });

  it("prints key=value lines from the value's own fields, quoting free text", () => {
    const spec = {
      keys: ["task_id", "status", "task_name", "stdout", "stderr", "missing"],
      quoted: ["stdout", "stderr"],
    };
    expect(render(task, "table", spec).stdout).toBe(
      'task_id=t1 status=completed task_name=my-task stdout="hello\\n" stderr=""\n',
    );
    expect(render({ user: "a b", ok: true, n: 3 }, "table", { keys: ["user", "ok", "n"] }).stdout).toBe(
      'user="a b" ok=true n=3\n',
    );
  });

  it("supports a prefix, rows and raw streams", () => {
    expect(render({ version: "1.0" }, "table", { prefix: "cynork", keys: ["version"] }).stdout).toBe(
      "cynork version=1.0\n",
    );
    expect(render({ gateway: "ok" }, "table", { prefix: "ok" }).stdout).toBe("ok\n");
    const page = {
      tasks: [
        { task_id: "a", status: "queued" },
        { task_id: "b", status: "running" },
      ],
    };
    expect(render(page, "table", { rows: "tasks", keys: ["task_id", "status"] }).stdout).toBe(
      "task_id=a status=queued\ntask_id=b status=running\n",
    );
    expect(render({}, "table", { rows: "tasks", keys: ["task_id"] }).stdout).toBe("");
    expect(render({ o: "out", e: "err" }, "table", { streams: ["o", "e"] })).toEqual({ stdout: "out", stderr: "err" });
    expect(render({}, "table", { streams: ["o", "e"] })).toEqual({ stdout: "", stderr: "" });
  });
});

const run = (stdout: string, stderr = "") =>
  JSON.stringify(completedRun({ task_id: "t", job_id: "j" }, { stdout, stderr }));

describe("job results", () => {
  it("joins the jobs in order", () => {
    expect(
      jobsOutput([
        { id: "1", status: "completed", result: run("a\n") },
        { id: "2", status: "completed", result: run("b\n", "e") },
      ]),
    ).toEqual({ stdout: "a\nb\n", stderr: "e" });
  });
});

describe("result and logs values", () => {
  it("includes output once the task has ended or produced some", () => {
    const queued = resultValue({ task_id: "t", status: "queued", jobs: [{ id: "j", status: "queued" }] });
    expect(Object.keys(queued)).toEqual(["task_id", "task_name", "status", "jobs"]);
    const running = resultValue({
      task_id: "t",
      status: "running",
      jobs: [{ id: "j", status: "running", result: "partial" }],
    });
    expect(running).toMatchObject({ stdout: "partial", stderr: "" });
    expect(resultValue({ task_id: "t", status: "canceled", jobs: [] })).toMatchObject({ stdout: "", stderr: "" });
  });

  it("prints each job's result parsed when it holds a JSON object, else as the text it is", () => {
    const sba = {
      protocol_version: "1.0",
      job_id: "a",
      status: "success",
      final_answer: "1",
      steps: [],
      artifacts: [],
    };
    const result = JSON.stringify({ status: "completed", stdout: "1", sba_result: sba });
    const value = resultValue({
      task_id: "t",
      status: "completed",
      jobs: [
        { id: "a", status: "completed", result },
        { id: "b", status: "completed", result: "hello" },
        { id: "c", status: "completed", result: "[1]" },
        { id: "d", status: "queued" },
      ],
    });
    expect(value.jobs).toEqual([
      { id: "a", status: "completed", result: { status: "completed", stdout: "1", sba_result: sba } },
      { id: "b", status: "completed", result: "hello" },
      { id: "c", status: "completed", result: "[1]" },
      { id: "d", status: "queued" },
    ]);
    expect(value.stdout).toStartWith("1hello");
  });

  it("splits the chosen stream into lines", () => {
    const logs = { task_id: "t", stdout: "a\nb\n", stderr: "e\n" };
    expect(logsValue(logs, "all").lines).toEqual(["a", "b", "e"]);
    expect(logsValue(logs, "stderr").lines).toEqual(["e"]);
    expect(logsValue({ ...logs, stdout: "" }, "stdout").lines).toEqual([]);
  });
});
