import { describe, expect, it } from "bun:test";
import { jobsOutput, logsValue, resultValue } from "./task-views";
import { completedRun } from "../testing/completed-run";

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

  it("splits the chosen stream into lines", () => {
    const logs = { task_id: "t", stdout: "a\nb\n", stderr: "e\n" };
    expect(logsValue(logs, "all").lines).toEqual(["a", "b", "e"]);
    expect(logsValue(logs, "stderr").lines).toEqual(["e"]);
    expect(logsValue({ ...logs, stdout: "" }, "stdout").lines).toEqual([]);
  });
});
