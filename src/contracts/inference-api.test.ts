import { describe, expect, it } from "bun:test";
import { decideInferenceRequest, INFERENCE_ROUTES } from "./inference-api";

const refused = (method: string, target: string) => !decideInferenceRequest(method, target).allowed;

describe("the inference API allow-list", () => {
  it("admits each listed route with its exact method and path, the query dropped", () => {
    for (const key of Object.keys(INFERENCE_ROUTES)) {
      const [method, path] = key.split(" ") as [string, string];
      expect(decideInferenceRequest(method, path)).toMatchObject({ allowed: true, path });
    }
    expect(decideInferenceRequest("GET", "/api/tags?x=1#f")).toMatchObject({ allowed: true, path: "/api/tags" });
  });

  it("refuses Ollama's management API", () => {
    for (const [method, path] of [
      ["DELETE", "/api/delete"],
      ["POST", "/api/copy"],
      ["POST", "/api/pull"],
      ["POST", "/api/create"],
      ["POST", "/api/push"],
      ["POST", "/api/blobs/sha256:00"],
      ["HEAD", "/api/blobs/sha256:00"],
      ["GET", "/api/ps"],
      ["GET", "/"],
    ] as const) {
      const d = decideInferenceRequest(method, path);
      expect(d).toEqual({
        allowed: false,
        detail: `${method} ${path} is not part of the inference API this sandbox may use`,
      });
    }
  });

  it("refuses a listed path under another method", () => {
    expect(refused("GET", "/api/chat")).toBe(true);
    expect(refused("POST", "/api/tags")).toBe(true);
    expect(refused("DELETE", "/api/chat")).toBe(true);
    expect(refused("OPTIONS", "/v1/models")).toBe(true);
  });

  it("refuses every spelling an upstream might read as another path", () => {
    for (const target of [
      "/api//pull",
      "/api/chat/../pull",
      "/api/./chat",
      "/api/chat/..",
      "/api/%70ull",
      "/api/chat%2f..%2fpull",
      "/api\\pull",
      "/api/chat/",
      "//api/chat",
      "/API/CHAT",
      "/api/chat;x",
      "/api/ch at",
    ]) {
      expect(refused("POST", target)).toBe(true);
    }
    expect(decideInferenceRequest("POST", "/api/%70ull")).toEqual({
      allowed: false,
      detail: "ambiguous request path refused: /api/%70ull",
    });
  });

  it("refuses absolute-form and authority-form targets", () => {
    expect(decideInferenceRequest("POST", "http://localhost:11434/api/chat")).toEqual({
      allowed: false,
      detail: "only origin-form request targets (/path) are accepted",
    });
    expect(refused("CONNECT", "localhost:11434")).toBe(true);
    expect(refused("OPTIONS", "*")).toBe(true);
  });
});
