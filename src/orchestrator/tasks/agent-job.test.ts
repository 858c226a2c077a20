import { describe, expect, it } from "bun:test";
import { parseJobSpec } from "../../contracts/sba";
import { agentAllowedModels, agentJobPayload, agentJobSpec } from "./agent-job";

const ids = { jobId: "j-1", taskId: "t-1" };

describe("agent job spec", () => {
  it("carries requirements, acceptance criteria and the task's time budget when given", () => {
    const text = agentJobSpec({
      ...ids,
      goal: "fix the test",
      allowedModels: ["m"],
      maxRuntimeSeconds: 60,
      requirements: ["keep the API"],
      acceptanceCriteria: ["bun test passes"],
    });
    const parsed = parseJobSpec(text);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.spec.constraints?.max_runtime_seconds).toBe(60);
    expect(parsed.spec.context).toEqual({
      task_context: "fix the test",
      requirements: ["keep the API"],
      acceptance_criteria: ["bun test passes"],
    });
  });

  it("refuses to build a spec the node would reject", () => {
    expect(() => agentJobSpec({ ...ids, jobId: "", goal: "g", allowedModels: ["m"] })).toThrow(
      "built an invalid agent job spec: job_id: required",
    );
    expect(() => agentJobSpec({ ...ids, goal: "g", allowedModels: ["m"], maxRuntimeSeconds: 0 })).toThrow(
      "constraints.max_runtime_seconds: must be positive",
    );
  });

  it("reads the allowed models back from a payload, and none from any other", () => {
    const payload = agentJobPayload({ ...ids, goal: "g", allowedModels: ["a", "b"], image: "img" });
    expect(agentAllowedModels(payload)).toEqual(["a", "b"]);
    expect(agentAllowedModels({ image: "img", command: ["true"] })).toEqual([]);
    expect(agentAllowedModels({ image: "img", job_spec_json: "{not json" })).toEqual([]);
  });
});
