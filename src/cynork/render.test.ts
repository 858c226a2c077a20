import { describe, expect, it } from "bun:test";
import { render } from "./render";

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
