import { describe, expect, it } from "bun:test";
import type { JobSpec } from "../../contracts/sba";
import { goalOf, jobContext, runtimeNote } from "./prompt";

const spec = (extra: Partial<JobSpec> = {}): JobSpec => ({
  protocol_version: "1.0",
  job_id: "j",
  task_id: "t",
  constraints: { max_runtime_seconds: 60, max_output_bytes: 1024 },
  ...extra,
});

describe("the agent's prompt", () => {
  it("says where files go back and whether the network is there (the task's allowed hosts)", () => {
    expect(jobContext(spec())).toContain("busybox tools and no network.\n");
    expect(jobContext(spec())).toContain("Files you want to hand back go in $CYNODE_ARTIFACTS_DIR (/job/artifacts)");
    const allowed = spec({ constraints: { max_runtime_seconds: 60, max_output_bytes: 1024, ext_net_allowed: true } });
    expect(jobContext(allowed)).toContain("no network but the task's allowed hosts, through the proxy in $HTTP_PROXY");
  });

  it("gives the job's context in the reference's order", () => {
    const text = jobContext(
      spec({
        persona: { description: "a careful engineer" },
        context: {
          baseline_context: "B",
          project_context: "P",
          task_context: "T",
          requirements: ["r1"],
          acceptance_criteria: ["a1"],
          preferences: { style: "terse" },
          additional_context: "X",
        },
        steps: [{ type: "run_command", args: { argv: ["ls"] } }, { type: "list_tree" }],
      }),
    );
    const order = ["Persona:\na careful engineer", "Baseline:\nB", "Project:\nP", "Task:\nT", "Requirements:\n- r1"];
    order.push("Acceptance criteria:\n- a1", "Preferences:\n- style: terse", "Additional context:\nX");
    order.push('Suggested steps:\n1. run_command {"argv":["ls"]}\n2. list_tree');
    const at = order.map((part) => text.indexOf(part));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it("makes the task the goal, or points to the system text", () => {
    expect(goalOf(spec({ context: { task_context: "do it" } }))).toBe("do it");
    expect(goalOf(spec())).toBe("Do the task described in the system message.");
  });

  it("tells the time and steps left and the todo list", () => {
    expect(runtimeNote({ secondsLeft: 41.7, stepsLeft: 3, todo: [] })).toBe(
      "Time left: 41 seconds. Steps left: 3.\nTodo list:\n(empty: add items with the todo tool)",
    );
    const todo = [
      { id: 1, title: "a", done: true },
      { id: 2, title: "b", done: false },
    ];
    expect(runtimeNote({ secondsLeft: -1, stepsLeft: 0, todo })).toBe(
      "Time left: 0 seconds. Steps left: 0.\nTodo list:\n- [x] 1. a\n- [ ] 2. b",
    );
  });
});
