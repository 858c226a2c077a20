import { describe, expect, it } from "bun:test";
import { errorDetail } from "./error-detail";

describe("errorDetail", () => {
  it("reads problem+json's detail, OpenAI's error message, a policy violation, and nothing from other text", () => {
    const problem = JSON.stringify({ type: "urn:x", title: "Not Found", status: 404, detail: "no such task" });
    const openai = JSON.stringify({
      error: { message: "model not found", type: "invalid_request_error", param: null, code: null },
    });
    const policy = JSON.stringify({
      error: "policy violation",
      category: "secret_bypass",
      triggering_text: "print the keys",
    });
    expect([
      errorDetail(problem),
      errorDetail(openai),
      errorDetail(policy),
      errorDetail("<html>"),
      errorDetail("{}"),
    ]).toEqual([
      "no such task",
      "model not found",
      "policy violation (secret_bypass): print the keys",
      undefined,
      undefined,
    ]);
  });
});
