import { describe, expect, it } from "bun:test";
import * as v from "valibot";
import {
  STEP_OUTPUT_CAP,
  SbaResult,
  TRUNCATED_SUFFIX,
  capText,
  executionMode,
  majorVersion,
  parseJobSpec,
} from "./sba";

const spec = (over: Record<string, unknown> = {}) => ({
  protocol_version: "1.0",
  job_id: "j1",
  task_id: "t1",
  constraints: { max_runtime_seconds: 300, max_output_bytes: 65536 },
  inference: { allowed_models: ["qwen3:8b"], source: "orchestrator" },
  context: { task_context: "count the files" },
  ...over,
});
const error = (doc: unknown) => {
  const r = parseJobSpec(JSON.stringify(doc));
  return r.ok ? null : r.error;
};

describe("parseJobSpec", () => {
  it("accepts the gateway's spec and reads its fields", () => {
    const r = parseJobSpec(JSON.stringify(spec({ execution_mode: "agent_inference" })));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.spec.inference?.allowed_models).toEqual(["qwen3:8b"]);
      expect(executionMode(r.spec)).toBe("agent_inference");
    }
  });

  it("rejects an unknown field at any depth with the reference's message", () => {
    expect(error(spec({ x: 1 }))).toBe('invalid JSON or unknown field: json: unknown field "x"');
    expect(error(spec({ constraints: { max_runtime_seconds: 1, max_output_bytes: 1, y: 2 } }))).toBe(
      'invalid JSON or unknown field: json: unknown field "y"',
    );
    expect(error(spec({ context: { task_context: "a", persona: "p" } }))).toBe(
      'invalid JSON or unknown field: json: unknown field "persona"',
    );
    expect(error(spec({ steps: [{ type: "run_command", args: {}, z: 0 }] }))).toBe(
      'invalid JSON or unknown field: json: unknown field "z"',
    );
    expect(error(spec({ inference: { allowed_models: ["m"], w: 1 } }))).toContain('unknown field "w"');
  });

  it("rejects invalid JSON and wrong types as decoding errors", () => {
    expect(parseJobSpec("{").ok).toBe(false);
    expect(error(spec({ job_id: 5 }))).toBe("invalid JSON or unknown field: job_id must be a string");
    expect(error([1])).toBe("invalid JSON or unknown field: expected an object");
    expect(error(spec({ constraints: [] }))).toBe("invalid JSON or unknown field: expected an object");
    expect(error(spec({ constraints: { max_runtime_seconds: 1.5, max_output_bytes: 1 } }))).toContain(
      "max_runtime_seconds must be an integer",
    );
  });

  it("runs the reference's checks in its order", () => {
    expect(error({})).toBe("protocol_version: required");
    expect(error(spec({ protocol_version: "x.1", job_id: "" }))).toBe("protocol_version: invalid version format");
    expect(error(spec({ protocol_version: "2.0" }))).toBe(
      "protocol_version: unsupported major version 2 (supported: 1)",
    );
    expect(error(spec({ job_id: "", task_id: "" }))).toBe("job_id: required");
    expect(error(spec({ task_id: "" }))).toBe("task_id: required");
    expect(error(spec({ execution_mode: "shell", constraints: {} }))).toBe(
      "execution_mode: must be one of: agent_inference, direct_steps",
    );
    expect(error(spec({ constraints: undefined }))).toBe("constraints.max_runtime_seconds: must be positive");
    expect(error(spec({ constraints: { max_runtime_seconds: 1, max_output_bytes: 0 } }))).toBe(
      "constraints.max_output_bytes: must be positive",
    );
  });

  it("takes suggested steps as direct mode unless the mode is explicit", () => {
    const steps = [{ type: "run_command", args: { argv: ["ls"] } }];
    const direct = parseJobSpec(JSON.stringify(spec({ steps })));
    const agent = parseJobSpec(JSON.stringify(spec({ steps, execution_mode: "agent_inference" })));
    expect(direct.ok && executionMode(direct.spec)).toBe("direct_steps");
    expect(agent.ok && executionMode(agent.spec)).toBe("agent_inference");
  });

  it("reads the major version before the first dot", () => {
    expect(majorVersion("1")).toBe(1);
    expect(majorVersion("1.0.3")).toBe(1);
    expect(majorVersion("")).toBeNull();
  });
});

describe("SbaResult", () => {
  const base = { protocol_version: "1.0", job_id: "j", status: "success" };

  it("reads the reference's null lists as arrays", () => {
    const r = v.parse(SbaResult, { ...base, steps: null, artifacts: null, failure_code: null, failure_message: null });
    expect(r.steps).toEqual([]);
    expect(r.artifacts).toEqual([]);
    expect(v.parse(SbaResult, base).steps).toEqual([]);
  });

  it("keeps our step record fields and the todo list", () => {
    const step = {
      index: 0,
      type: "run_command",
      status: "success",
      kind: "tool_call",
      tool: "run_command",
      arguments: '{"argv":["ls"]}',
      exit_code: 0,
      output: "a\n",
      started_at: "2026-12-07T21:00:00Z",
      duration_ms: 12,
    };
    const turn = {
      index: 1,
      type: "model",
      status: "success",
      kind: "model_turn",
      model: "m",
      prompt_tokens: 10,
      completion_tokens: 3,
    };
    const r = v.parse(SbaResult, {
      ...base,
      final_answer: "2",
      steps: [step, turn],
      todo: [{ id: 1, title: "a", done: true }],
    });
    expect(r.steps[1]?.completion_tokens).toBe(3);
    expect(r.todo?.[0]?.done).toBe(true);
    expect(v.safeParse(SbaResult, { ...base, steps: [{ ...step, kind: "other" }] }).success).toBe(false);
    expect(v.safeParse(SbaResult, { ...base, status: "done" }).success).toBe(false);
  });

  it("refuses an output longer than its cap", () => {
    const long = "x".repeat(STEP_OUTPUT_CAP + 1);
    const step = { index: 0, type: "read_file", status: "success" };
    expect(v.safeParse(SbaResult, { ...base, steps: [{ ...step, output: long + TRUNCATED_SUFFIX }] }).success).toBe(
      false,
    );
    expect(
      v.safeParse(SbaResult, { ...base, steps: [{ ...step, output: capText(long, STEP_OUTPUT_CAP).text }] }).success,
    ).toBe(true);
  });
});

describe("capText", () => {
  it("cuts and marks only what is longer than the cap", () => {
    expect(capText("abc", 3)).toEqual({ text: "abc", truncated: false });
    expect(capText("abcd", 3)).toEqual({ text: `abc${TRUNCATED_SUFFIX}`, truncated: true });
  });
});
