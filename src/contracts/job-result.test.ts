import { describe, expect, it } from "bun:test";
import { jobErrorResult, jobOutput } from "./job-result";
import { completedRun } from "../testing/completed-run";

const run = (stdout: string, stderr = "") =>
  JSON.stringify(completedRun({ task_id: "t", job_id: "j" }, { stdout, stderr }));

describe("jobOutput", () => {
  it("reads stdout/stderr from the RunJobResponse JSON text", () => {
    expect(jobOutput(run("hello\n", "w\n"))).toEqual({ stdout: "hello\n", stderr: "w\n" });
    expect(jobOutput(undefined)).toEqual({ stdout: "", stderr: "" });
  });

  it("shows the dispatcher's error object on stderr", () => {
    expect(jobOutput(jobErrorResult("no node"))).toEqual({ stdout: "", stderr: "no node\n" });
    expect(jobOutput(JSON.stringify({ stderr: "partial", error: "lease expired" })).stderr).toBe(
      "partial\nlease expired\n",
    );
  });

  it("counts a plain-text or non-object result as stdout", () => {
    expect(jobOutput("hello")).toEqual({ stdout: "hello", stderr: "" });
    expect(jobOutput("42")).toEqual({ stdout: "42", stderr: "" });
  });
});
