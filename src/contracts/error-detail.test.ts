import { describe, expect, it } from "bun:test";
import { errorDetail } from "./error-detail";

describe("errorDetail", () => {
  it("reads problem+json's detail, OpenAI's error message, and nothing from other text", () => {
    const problem = JSON.stringify({ type: "urn:x", title: "Not Found", status: 404, detail: "no such task" });
    const openai = JSON.stringify({
      error: { message: "model not found", type: "invalid_request_error", param: null, code: null },
    });
    expect([errorDetail(problem), errorDetail(openai), errorDetail("<html>"), errorDetail("{}")]).toEqual([
      "no such task",
      "model not found",
      undefined,
      undefined,
    ]);
  });
});
